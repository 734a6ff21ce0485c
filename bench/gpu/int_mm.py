"""The GPU peer for offload's INT8 GEMM bench: torch._int_mm (cuBLAS int8 x int8 -> int32) on the same shapes.

Run on the lent GPU machine next to `offload bench --sections gemm --device cl:gpu`; prints one line per shape with
the median time and GOPS (2*M*N*K/s). torch._int_mm needs M > 16 and K, N multiples of 8, so decode shapes with
M <= 16 are padded to M = 32 rows and reported as such.
"""
import statistics
import sys

import torch

SHAPES = [(512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048), (1, 4096, 4096), (8, 4096, 4096),
          (32, 4096, 4096), (4096, 384, 384), (4096, 384, 1536), (4096, 1536, 384)]  # (M, K, N)


def median_ms(fn, reps=50, warmup=10):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    for m, k, n in SHAPES:
        rows = max(m, 32)
        a = torch.randint(-128, 128, (rows, k), dtype=torch.int8, device="cuda")
        b = torch.randint(-128, 128, (k, n), dtype=torch.int8, device="cuda")
        ms = median_ms(lambda: torch._int_mm(a, b))
        note = "" if rows == m else f" (padded to M={rows})"
        print(f"int_mm {m}x{k}x{n}{note}: median {ms:.4f} ms, {2 * m * k * n / ms / 1e6:.1f} GOPS")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
