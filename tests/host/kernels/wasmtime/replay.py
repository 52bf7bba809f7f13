#!/usr/bin/env python3
"""Replays a kernel-call trace under Wasmtime, the second WebAssembly engine.

A trace (written by tests/host/kernels/wasmtime/trace.ts) is a folder holding
  trace.json  {"module": path, "relaxed": bool, "heapBytes": n, "calls": [[name, arg, ...], ...]}
  heap.bin    the kernel module's memory when the first call was made (heapBytes long)
The module is instantiated with no imports, its memory grown to heapBytes and filled
with heap.bin, and the calls are made in order.

  replay.py TRACE OUT            writes the memory after the last call to OUT
  replay.py TRACE --time N       runs the calls N times after one warm-up run and prints
                                 one JSON line: {"best_ms": [per call], "engine": ...}

Wasmtime compiles with Cranelift at opt level "speed"; relaxed SIMD is enabled only
for a relaxed trace (non-deterministic lowering allowed, as a browser would).
"""
import json
import os
import sys
import time

import wasmtime


def load(trace_dir):
    with open(os.path.join(trace_dir, "trace.json")) as f:
        trace = json.load(f)
    config = wasmtime.Config()
    config.wasm_simd = True
    config.wasm_relaxed_simd = bool(trace.get("relaxed"))
    config.cranelift_opt_level = "speed"
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    module = wasmtime.Module.from_file(engine, trace["module"])
    if module.imports:
        raise SystemExit(f"replay.py: {trace['module']} imports {[i.name for i in module.imports]}; kernel modules import nothing")
    exports = wasmtime.Instance(store, module, []).exports(store)
    memory = exports["memory"]
    need = trace["heapBytes"]
    have = memory.data_len(store)
    if need > have:
        memory.grow(store, (need - have + 65535) // 65536)
    with open(os.path.join(trace_dir, "heap.bin"), "rb") as f:
        image = f.read()
    if len(image) != need:
        raise SystemExit(f"replay.py: heap.bin has {len(image)} bytes, trace.json says {need}")
    calls = [(exports[c[0]], c[1:]) for c in trace["calls"]]
    return store, memory, image, calls


def run(store, calls):
    for fn, args in calls:
        fn(store, *args)


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    store, memory, image, calls = load(argv[1])
    memory.write(store, image, 0)
    if argv[2] == "--time":
        reps = int(argv[3])
        run(store, calls)  # warm-up: page faults, caches
        best = [float("inf")] * len(calls)
        for _ in range(reps):
            for i, (fn, args) in enumerate(calls):
                t0 = time.perf_counter()
                fn(store, *args)
                best[i] = min(best[i], (time.perf_counter() - t0) * 1000)
        print(json.dumps({"best_ms": best, "engine": f"wasmtime {wasmtime.__version__ if hasattr(wasmtime, '__version__') else ''}".strip()}))
        return
    run(store, calls)
    with open(argv[2], "wb") as f:
        f.write(memory.read(store, 0, memory.data_len(store)))


if __name__ == "__main__":
    main(sys.argv)
