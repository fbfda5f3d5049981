#!/bin/bash
# screentime over a video catalog as a Slurm job array: array task I of N runs
# `screentime batch ... --shard I/N`, all against one shared filesystem.
#
#   sbatch examples/slurm/screentime-array.sh
#   SHARED=/scratch/me/films sbatch examples/slurm/screentime-array.sh   # sbatch passes the environment on
#
# Inputs and outputs, all on storage every node sees (override any of them in the environment):
#   CATALOG  the videos, searched recursively, or a manifest file   [$SHARED/catalog]
#   CAST     one folder of photos per actor (see cast/README.md)    [$SHARED/cast]
#   OUT      the results, one folder per title                      [$SHARED/screentime-out]
# Every task must use the same cast and settings: the catalog summary puts all titles side by side.
# A task that fails, or the whole array submitted again, skips the titles already finished.
#
# The program: by default the one the README's setup built in a project checkout on the shared
# filesystem (SCREENTIME_HOME, where `scripts/setup && cargo build --release` ran). The compute
# nodes then need FFmpeg 5.1's shared libraries (Debian 12: libavcodec59, libavformat59,
# libavdevice59, libswscale6 and their dependencies). Where they lack them, or run another
# distribution, use the container image instead (Apptainer converts it, libraries and models
# included):
#   apptainer build screentime.sif docker-daemon://screentime:latest   # or docker://REGISTRY/screentime:TAG
#   SCREENTIME_SIF=$PWD/screentime.sif sbatch examples/slurm/screentime-array.sh
#
# Afterwards, the catalog summary (catalog.csv and the catalog chart, rebuilt from every finished
# title) as a job that starts once all array tasks have ended, whether they succeeded or not:
#   jobid=$(sbatch --parsable examples/slurm/screentime-array.sh); jobid=${jobid%%;*}
#   sbatch --dependency=afterany:$jobid --job-name=screentime-summary \
#     --wrap "/shared/screentime/target/release/screentime summary /shared/screentime-out"
# (or --wrap "apptainer exec --bind /shared screentime.sif screentime summary /shared/screentime-out").
# `screentime summary OUT` can also be run by hand at any time, while tasks are still running.
#
# The #SBATCH lines must stay above the first command: sbatch stops reading them there.
# Four shards, two CPUs each (screentime uses every CPU the task is given). For several titles at
# once in one task, raise --cpus-per-task and add `--jobs N` to the batch command below.
# The log goes to the submission folder: screentime-<array job id>_<task id>.out.
#SBATCH --job-name=screentime
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=24:00:00
#SBATCH --output=screentime-%A_%a.out

set -euo pipefail

: "${SLURM_ARRAY_TASK_ID:?run this with sbatch: it is a job array script}"
SHARED=${SHARED:-/shared}
CATALOG=${CATALOG:-$SHARED/catalog}
CAST=${CAST:-$SHARED/cast}
OUT=${OUT:-$SHARED/screentime-out}
SCREENTIME_HOME=${SCREENTIME_HOME:-$SHARED/screentime}

# The shard count is the array's size, so --array=0-7 on the sbatch command line makes 8 shards.
# Shard numbers are the task ids, so the array must be 0..N-1 without gaps. To rerun one failed
# shard alone, give the count: SHARDS=4 sbatch --array=2 examples/slurm/screentime-array.sh
# (or simply submit the whole array again: finished titles are skipped).
if [ -z "${SHARDS:-}" ]; then
  SHARDS=$SLURM_ARRAY_TASK_COUNT
  if [ "$SLURM_ARRAY_TASK_MIN" -ne 0 ] || [ "$SLURM_ARRAY_TASK_MAX" -ne $((SHARDS - 1)) ]; then
    echo "error: the array is ${SLURM_ARRAY_TASK_MIN}-${SLURM_ARRAY_TASK_MAX} with ${SHARDS} tasks;" \
      "shards need --array=0-$((SHARDS - 1)), or SHARDS=N for a partial rerun" >&2
    exit 2
  fi
fi

if [ -n "${SCREENTIME_SIF:-}" ]; then
  # --cleanenv: the image's own environment (SCREENTIME_MODELS=/opt/screentime/models) applies,
  # not the submitting shell's. Every path used must be inside the bound folder.
  screentime=(apptainer exec --cleanenv --bind "$SHARED" "$SCREENTIME_SIF" screentime)
else
  # The binary also finds the models of the folder it was built in by itself; naming them keeps
  # that true when the checkout is mounted elsewhere on the compute nodes.
  export SCREENTIME_MODELS="${SCREENTIME_MODELS:-$SCREENTIME_HOME/models}"
  screentime=("$SCREENTIME_HOME/target/release/screentime")
fi

echo "screentime shard ${SLURM_ARRAY_TASK_ID}/${SHARDS} on $(hostname): $CATALOG -> $OUT"
exec "${screentime[@]}" batch "$CATALOG" --cast "$CAST" --out "$OUT" \
  --shard "${SLURM_ARRAY_TASK_ID}/${SHARDS}"
