;; Kernels the tfjs WASM backend lacks, run on its own heap (the memory is imported
;; from tfjs's module, so the operands are the tensors' own storage: no copies).
;; Assembled by `npm run wasm-kernels` into src/backend/wasm/kernels.generated.ts;
;; test/ops-parity.test.ts checks that file is this source assembled.
;; No data segments: an active segment would overwrite tfjs's heap at instantiation.
(module
  (import "env" "memory" (memory 0))

  ;; ---- Adam's update (GlanceAdamUpdate, src/ops/adam-update.ts) ----
  ;; One Adam step over n floats, 4 at a time (SIMD) plus a scalar tail, with the
  ;; operations in the order and float32 rounding of the reference kernel's tfjs ops:
  ;;   m' = m*b1 + g*c1;  v' = v*b2 + (g*g)*c2;  out = w - (m' / (sqrt(v') + eps)) * lr
  ;; into mOut, vOut and out. Pointers are byte offsets.
  (func (export "adam")
    (param $w i32) (param $out i32) (param $m i32) (param $v i32) (param $g i32) (param $n i32)
    (param $mOut i32) (param $vOut i32)
    (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32) (param $eps f32) (param $lr f32)
    (local $i i32) (local $end4 i32) (local $end i32)
    (local $vb1 v128) (local $vc1 v128) (local $vb2 v128) (local $vc2 v128) (local $veps v128) (local $vlr v128)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vlr (f32x4.splat (local.get $lr)))
    ;; byte offsets: [0, end4) in blocks of 16 bytes, [end4, end) one float at a time
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end4 (i32.and (local.get $end) (i32.const -16)))
    (local.set $i (i32.const 0))
    (block $done4
      (loop $simd
        (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $gv (v128.load align=4 (i32.add (local.get $g) (local.get $i))))
        (local.set $mv
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $m) (local.get $i))) (local.get $vb1))
            (f32x4.mul (local.get $gv) (local.get $vc1))))
        (local.set $vv
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $v) (local.get $i))) (local.get $vb2))
            (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $vc2))))
        (v128.store align=4 (i32.add (local.get $mOut) (local.get $i)) (local.get $mv))
        (v128.store align=4 (i32.add (local.get $vOut) (local.get $i)) (local.get $vv))
        (v128.store align=4 (i32.add (local.get $out) (local.get $i))
          (f32x4.sub
            (v128.load align=4 (i32.add (local.get $w) (local.get $i)))
            (f32x4.mul
              (f32x4.div (local.get $mv) (f32x4.add (f32x4.sqrt (local.get $vv)) (local.get $veps)))
              (local.get $vlr))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $simd)))
    (block $done
      (loop $scalar
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $i))))
        (local.set $ms
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $m) (local.get $i))) (local.get $b1))
            (f32.mul (local.get $gs) (local.get $c1))))
        (local.set $vs
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $v) (local.get $i))) (local.get $b2))
            (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $c2))))
        (f32.store (i32.add (local.get $mOut) (local.get $i)) (local.get $ms))
        (f32.store (i32.add (local.get $vOut) (local.get $i)) (local.get $vs))
        (f32.store (i32.add (local.get $out) (local.get $i))
          (f32.sub
            (f32.load (i32.add (local.get $w) (local.get $i)))
            (f32.mul
              (f32.div (local.get $ms) (f32.add (f32.sqrt (local.get $vs)) (local.get $eps)))
              (local.get $lr))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $scalar)))
  )

  ;; ---- LSTM cell, pointwise (lstm.ts) ----
  ;; exp, sigmoid and tanh on 4 floats. exp: Cephes expf (range reduction by ln 2
  ;; in two parts, degree-5 polynomial, ~1 ulp), the argument clamped to [-87, 88]
  ;; so 2^k stays a normal float. tanh: Cephes tanhf's odd polynomial for |x| < 0.625,
  ;; 1 - 2 / (exp(2x) + 1) beyond (no cancellation there).
  (func $exp (param $x v128) (result v128)
    (local $k v128) (local $r v128) (local $p v128)
    (local.set $x (f32x4.max (f32x4.min (local.get $x) (v128.const f32x4 88 88 88 88)) (v128.const f32x4 -87 -87 -87 -87)))
    (local.set $k (f32x4.nearest (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))))
    (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $k) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $k) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    ;; 1 + r + r^2 p(r), times 2^k (k + 127 in the exponent bits)
    (local.set $p (f32x4.add
      (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $r)) (local.get $r)) (local.get $r))
      (v128.const f32x4 1 1 1 1)))
    (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $k)) (v128.const i32x4 127 127 127 127)) (i32.const 23)))
  )

  (func $sigmoid (param $x v128) (result v128)
    (f32x4.div (v128.const f32x4 1 1 1 1)
      (f32x4.add (v128.const f32x4 1 1 1 1) (call $exp (f32x4.neg (local.get $x)))))
  )

  (func $tanh (param $x v128) (result v128)
    (local $z v128) (local $small v128) (local $large v128)
    (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $small (v128.const f32x4 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3 -5.70498872745e-3))
    (local.set $small (f32x4.add (f32x4.mul (local.get $small) (local.get $z)) (v128.const f32x4 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2 2.06390887954e-2)))
    (local.set $small (f32x4.add (f32x4.mul (local.get $small) (local.get $z)) (v128.const f32x4 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2 -5.37397155531e-2)))
    (local.set $small (f32x4.add (f32x4.mul (local.get $small) (local.get $z)) (v128.const f32x4 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1 1.33314422036e-1)))
    (local.set $small (f32x4.add (f32x4.mul (local.get $small) (local.get $z)) (v128.const f32x4 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1 -3.33332819422e-1)))
    (local.set $small (f32x4.add (f32x4.mul (f32x4.mul (local.get $small) (local.get $z)) (local.get $x)) (local.get $x)))
    (local.set $large (f32x4.sub (v128.const f32x4 1 1 1 1)
      (f32x4.div (v128.const f32x4 2 2 2 2)
        (f32x4.add (call $exp (f32x4.add (local.get $x) (local.get $x))) (v128.const f32x4 1 1 1 1)))))
    (v128.bitselect (local.get $small) (local.get $large)
      (f32x4.lt (f32x4.abs (local.get $x)) (v128.const f32x4 0.625 0.625 0.625 0.625)))
  )

  ;; One forward step of an LSTM layer for n rows of `units` (a multiple of 4) cells.
  ;; gates [n, 4u] (pre-activations, gate order i, f, g, o), cprev [n, u] ->
  ;; acts [n, 4u] = sigmoid(i), sigmoid(f), tanh(g), sigmoid(o);
  ;; c = f*cprev + i*g; tau = tanh(c); h = o*tau (each [n, u]).
  (func (export "lstmForward")
    (param $gates i32) (param $cprev i32) (param $acts i32) (param $c i32) (param $tau i32) (param $h i32)
    (param $n i32) (param $units i32)
    (local $row i32) (local $j i32) (local $rowBytes i32) (local $a4 i32) (local $a i32)
    (local $gi v128) (local $gf v128) (local $gg v128) (local $go v128) (local $cv v128) (local $tv v128)
    (local.set $rowBytes (i32.shl (local.get $units) (i32.const 2)))
    (local.set $row (i32.const 0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $n)))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            ;; a4: this row's gates (4 blocks of rowBytes); a: this row's [u] entries
            (local.set $a4 (i32.add (i32.mul (local.get $row) (i32.shl (local.get $rowBytes) (i32.const 2))) (local.get $j)))
            (local.set $a (i32.add (i32.mul (local.get $row) (local.get $rowBytes)) (local.get $j)))
            (local.set $gi (call $sigmoid (v128.load align=4 (i32.add (local.get $gates) (local.get $a4)))))
            (local.set $gf (call $sigmoid (v128.load align=4 (i32.add (i32.add (local.get $gates) (local.get $a4)) (local.get $rowBytes)))))
            (local.set $gg (call $tanh (v128.load align=4 (i32.add (i32.add (local.get $gates) (local.get $a4)) (i32.shl (local.get $rowBytes) (i32.const 1))))))
            (local.set $go (call $sigmoid (v128.load align=4 (i32.add (i32.add (local.get $gates) (local.get $a4)) (i32.mul (local.get $rowBytes) (i32.const 3))))))
            (v128.store align=4 (i32.add (local.get $acts) (local.get $a4)) (local.get $gi))
            (v128.store align=4 (i32.add (i32.add (local.get $acts) (local.get $a4)) (local.get $rowBytes)) (local.get $gf))
            (v128.store align=4 (i32.add (i32.add (local.get $acts) (local.get $a4)) (i32.shl (local.get $rowBytes) (i32.const 1))) (local.get $gg))
            (v128.store align=4 (i32.add (i32.add (local.get $acts) (local.get $a4)) (i32.mul (local.get $rowBytes) (i32.const 3))) (local.get $go))
            (local.set $cv (f32x4.add
              (f32x4.mul (local.get $gf) (v128.load align=4 (i32.add (local.get $cprev) (local.get $a))))
              (f32x4.mul (local.get $gi) (local.get $gg))))
            (local.set $tv (call $tanh (local.get $cv)))
            (v128.store align=4 (i32.add (local.get $c) (local.get $a)) (local.get $cv))
            (v128.store align=4 (i32.add (local.get $tau) (local.get $a)) (local.get $tv))
            (v128.store align=4 (i32.add (local.get $h) (local.get $a)) (f32x4.mul (local.get $go) (local.get $tv)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cols)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows)))
  )

  ;; One backward step: dh = dout + dhnext; dtau = (dh*o) * (1 - tau^2); dc = dtau + dcnext;
  ;; dz = [dc*g * (i - i^2), dc*cprev * (f - f^2), dc*i * (1 - g^2), dh*tau * (o - o^2)] [n, 4u];
  ;; dcprev = dc*f [n, u]. The formulas of the reference kernels (src/ops/lstm.ts).
  (func (export "lstmBackward")
    (param $dout i32) (param $dhnext i32) (param $dcnext i32) (param $acts i32) (param $tau i32) (param $cprev i32)
    (param $dz i32) (param $dcprev i32) (param $n i32) (param $units i32)
    (local $row i32) (local $j i32) (local $rowBytes i32) (local $a4 i32) (local $a i32)
    (local $gi v128) (local $gf v128) (local $gg v128) (local $go v128) (local $tv v128) (local $dh v128) (local $dc v128)
    (local.set $rowBytes (i32.shl (local.get $units) (i32.const 2)))
    (local.set $row (i32.const 0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $n)))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $a4 (i32.add (i32.mul (local.get $row) (i32.shl (local.get $rowBytes) (i32.const 2))) (local.get $j)))
            (local.set $a (i32.add (i32.mul (local.get $row) (local.get $rowBytes)) (local.get $j)))
            (local.set $gi (v128.load align=4 (i32.add (local.get $acts) (local.get $a4))))
            (local.set $gf (v128.load align=4 (i32.add (i32.add (local.get $acts) (local.get $a4)) (local.get $rowBytes))))
            (local.set $gg (v128.load align=4 (i32.add (i32.add (local.get $acts) (local.get $a4)) (i32.shl (local.get $rowBytes) (i32.const 1)))))
            (local.set $go (v128.load align=4 (i32.add (i32.add (local.get $acts) (local.get $a4)) (i32.mul (local.get $rowBytes) (i32.const 3)))))
            (local.set $tv (v128.load align=4 (i32.add (local.get $tau) (local.get $a))))
            (local.set $dh (f32x4.add
              (v128.load align=4 (i32.add (local.get $dout) (local.get $a)))
              (v128.load align=4 (i32.add (local.get $dhnext) (local.get $a)))))
            (local.set $dc (f32x4.add
              (f32x4.mul (f32x4.mul (local.get $dh) (local.get $go))
                (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $tv) (local.get $tv))))
              (v128.load align=4 (i32.add (local.get $dcnext) (local.get $a)))))
            (v128.store align=4 (i32.add (local.get $dz) (local.get $a4))
              (f32x4.mul (f32x4.mul (local.get $dc) (local.get $gg))
                (f32x4.sub (local.get $gi) (f32x4.mul (local.get $gi) (local.get $gi)))))
            (v128.store align=4 (i32.add (i32.add (local.get $dz) (local.get $a4)) (local.get $rowBytes))
              (f32x4.mul (f32x4.mul (local.get $dc) (v128.load align=4 (i32.add (local.get $cprev) (local.get $a))))
                (f32x4.sub (local.get $gf) (f32x4.mul (local.get $gf) (local.get $gf)))))
            (v128.store align=4 (i32.add (i32.add (local.get $dz) (local.get $a4)) (i32.shl (local.get $rowBytes) (i32.const 1)))
              (f32x4.mul (f32x4.mul (local.get $dc) (local.get $gi))
                (f32x4.sub (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $gg) (local.get $gg)))))
            (v128.store align=4 (i32.add (i32.add (local.get $dz) (local.get $a4)) (i32.mul (local.get $rowBytes) (i32.const 3)))
              (f32x4.mul (f32x4.mul (local.get $dh) (local.get $tv))
                (f32x4.sub (local.get $go) (f32x4.mul (local.get $go) (local.get $go)))))
            (v128.store align=4 (i32.add (local.get $dcprev) (local.get $a)) (f32x4.mul (local.get $dc) (local.get $gf)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cols)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows)))
  )

  ;; ---- Transpose of the last two axes (matmul.ts) ----
  ;; x [batch, rows, cols] -> out [batch, cols, rows], 4-byte elements, in tiles of
  ;; 16 x 16 so that both the reads and the writes stay within a few cache lines.
  (func (export "transpose2d") (param $x i32) (param $out i32) (param $batch i32) (param $rows i32) (param $cols i32)
    (local $b i32) (local $i0 i32) (local $j0 i32) (local $i i32) (local $j i32) (local $iEnd i32) (local $jEnd i32)
    (local $src i32) (local $dst i32) (local $plane i32)
    (local.set $plane (i32.shl (i32.mul (local.get $rows) (local.get $cols)) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $batchDone
      (loop $batchLoop
        (br_if $batchDone (i32.ge_u (local.get $b) (local.get $batch)))
        (local.set $i0 (i32.const 0))
        (block $i0Done
          (loop $i0Loop
            (br_if $i0Done (i32.ge_u (local.get $i0) (local.get $rows)))
            (local.set $iEnd (select (i32.add (local.get $i0) (i32.const 16)) (local.get $rows)
              (i32.lt_u (i32.add (local.get $i0) (i32.const 16)) (local.get $rows))))
            (local.set $j0 (i32.const 0))
            (block $j0Done
              (loop $j0Loop
                (br_if $j0Done (i32.ge_u (local.get $j0) (local.get $cols)))
                (local.set $jEnd (select (i32.add (local.get $j0) (i32.const 16)) (local.get $cols)
                  (i32.lt_u (i32.add (local.get $j0) (i32.const 16)) (local.get $cols))))
                (local.set $i (local.get $i0))
                (block $iDone
                  (loop $iLoop
                    (br_if $iDone (i32.ge_u (local.get $i) (local.get $iEnd)))
                    ;; src = x + 4 (i cols + j0); dst = out + 4 (j0 rows + i)
                    (local.set $src (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j0)) (i32.const 2))))
                    (local.set $dst (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $j0) (local.get $rows)) (local.get $i)) (i32.const 2))))
                    (local.set $j (local.get $j0))
                    (block $jDone
                      (loop $jLoop
                        (br_if $jDone (i32.ge_u (local.get $j) (local.get $jEnd)))
                        (i32.store (local.get $dst) (i32.load (local.get $src)))
                        (local.set $src (i32.add (local.get $src) (i32.const 4)))
                        (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $rows) (i32.const 2))))
                        (local.set $j (i32.add (local.get $j) (i32.const 1)))
                        (br $jLoop)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $iLoop)))
                (local.set $j0 (i32.add (local.get $j0) (i32.const 16)))
                (br $j0Loop)))
            (local.set $i0 (i32.add (local.get $i0) (i32.const 16)))
            (br $i0Loop)))
        (local.set $x (i32.add (local.get $x) (local.get $plane)))
        (local.set $out (i32.add (local.get $out) (local.get $plane)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $batchLoop)))
  )

  ;; ---- Sum over the leading axes (sum.ts) ----
  ;; x [rows, cols] -> out [cols], out[j] = x[0][j] + x[1][j] + ... in row order from
  ;; 0: the additions of tfjs's Sum kernel (which first transposes x), in its order.
  (func (export "sumRows") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $j i32) (local $end4 i32) (local $end i32) (local $row i32)
    (local.set $end (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $end4 (i32.and (local.get $end) (i32.const -16)))
    (local.set $j (i32.const 0))
    (block $zeroDone
      (loop $zero
        (br_if $zeroDone (i32.ge_u (local.get $j) (local.get $end)))
        (f32.store (i32.add (local.get $out) (local.get $j)) (f32.const 0))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $zero)))
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $end))))
        (local.set $j (i32.const 0))
        (block $done4
          (loop $simd
            (br_if $done4 (i32.ge_u (local.get $j) (local.get $end4)))
            (v128.store align=4 (i32.add (local.get $out) (local.get $j))
              (f32x4.add
                (v128.load align=4 (i32.add (local.get $out) (local.get $j)))
                (v128.load align=4 (i32.add (local.get $row) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $simd)))
        (block $done
          (loop $scalar
            (br_if $done (i32.ge_u (local.get $j) (local.get $end)))
            (f32.store (i32.add (local.get $out) (local.get $j))
              (f32.add
                (f32.load (i32.add (local.get $out) (local.get $j)))
                (f32.load (i32.add (local.get $row) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $scalar)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowsLoop)))
  )
)
