#!/usr/bin/env bash
# Frames per second of `facemine predict` on a video, with and without the face detector, in
# one session (the two alternate, three runs each; the medians are printed).
#
# Usage: benchmarks/video-throughput.sh CHECKPOINT [CLIP]
# Without CLIP, makes a 640x480, 25 fps, 10 s H.264 clip that pans and zooms over scikit-image's
# astronaut photo (one face in every frame), with imageio and the ffmpeg of imageio-ffmpeg
# (`pip install scikit-image imageio-ffmpeg`). Needs a release build of facemine and
# libFacemineVideo.so: `swift build -c release`.
set -euo pipefail
checkpoint="$1"
clip="${2:-}"
fm="${FACEMINE:-.build/release/facemine}"
if [ -z "$clip" ]; then
    clip="$(mktemp -d)/astronaut-pan.mp4"
    python3 - "$clip" <<'PY'
import os, sys
import imageio.v2 as imageio, numpy as np, skimage
from skimage.transform import resize
photo = imageio.imread(os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png"))
big = (resize(photo, (1024, 1024), order=1) * 255).astype(np.uint8)
with imageio.get_writer(sys.argv[1], fps=25, codec="libx264", quality=8, macro_block_size=16) as w:
    for k in range(250):
        t = k / 249
        x, y = int(100 + 200 * t), int(60 + 60 * np.sin(6.28 * t))
        w.append_data(big[y:y + 480, x:x + 640])
PY
fi
run() {  # frames/s from predict's own summary line on stderr
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$fm" predict "$checkpoint" "$clip" --json "$@" 2>&1 >/dev/null \
        | sed -n 's/.*(\([0-9.]*\) frames\/s).*/\1/p'
}
detect=(); whole=()
for i in 1 2 3; do
    detect+=("$(run --detect auto)")
    whole+=("$(run --detect never)")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
d=$(median "${detect[@]}"); w=$(median "${whole[@]}")
echo "clip $clip"
echo "frames/s, faces found and classified: ${detect[*]} (median $d)"
echo "frames/s, each frame classified whole (decode + classify, no detector): ${whole[*]} (median $w)"
python3 -c "print(f'detector share of the time per frame: {1 - $d / $w:.2f}')"
