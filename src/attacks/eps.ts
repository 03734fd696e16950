/**
 * Eps units, the paper's open ambiguity made explicit.
 *  - pixel: eps is in [0,1] pixel units and the adversarial image is clipped to [0,1].
 *  - normalized: eps is in units of the normalised input (x - 0.1307) / 0.3081, as in
 *    common PyTorch MNIST pipelines: a step of eps * 0.3081 in pixels, not clipped.
 */
import type { EpsUnits } from '../experiments/types.js';

export const MNIST_MEAN = 0.1307;
export const MNIST_STD = 0.3081;

/** The size of an eps step in pixel units. */
export const pixelEps = (eps: number, units: EpsUnits) => (units === 'pixel' ? eps : eps * MNIST_STD);

/** Whether adversarial images are clipped to the pixel range [0, 1]. */
export const clipsToPixels = (units: EpsUnits) => units === 'pixel';
