/**
 * The worker thread of `glance gallery`: picks the backend, crafts the gallery
 * (gallery.ts) and posts the outcome back. tfjs lives here only, so the process
 * that writes the report never loads it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../backend/select.js';
import { craftGallery } from './gallery.js';
import type { GalleryOutcome, GalleryTask } from './protocol.js';

const task = workerData as GalleryTask;
const backend = await selectBackend(task.backend);
const outcome: GalleryOutcome = { backend, panels: craftGallery(task) };
parentPort!.postMessage(outcome);
