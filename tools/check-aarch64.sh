#!/usr/bin/env bash
# edge-app on arm64, checked from an x86_64 machine: an arm64 Debian rootfs run under qemu-user.
#
# Installs the committed tree exactly as docs/raspberry-pi.md says (git clone, a venv, pip from PyPI),
# then runs info, classify on the shared photos, eval on imagenet-100 with every shared model, train and
# eval on flowers-4, a short `run --record` on the synthetic source, a pixel check of the model's resize
# and a fast subset of the tests. classify and eval also run here on the host, and the two must agree:
# same labels, same counts. Prints each step's time and which wheels pip chose for aarch64.
#
# Slow (about 25 minutes on 2 cores) and root-only, so it is not part of .ci/run. Debian packages only:
# qemu-user-static, binfmt-support, mmdebstrap, arch-test. Usage, from the checkout, as root:
#
#   tools/check-aarch64.sh            # HOST_EDGE_APP=path/to/edge-app if it is not on PATH
#
# It emulates a Pi 4's core by default (QEMU_CPU=cortex-a72; cortex-a76 is a Pi 5's). qemu's own
# default, max, has every extension (i8mm, SVE, ...), so XNNPACK picks kernels no Pi runs; on those
# tf2_mobilenet_v2_1.0_224_ptq scored 0/100, on a Pi 4's or a Pi 5's instruction set 89/100.
# The rootfs is kept in $ARM_WORK (default /var/tmp/edge-app-arm64) and reused; delete it to rebuild.
# The shared data is bind-mounted read-only, never copied. Everything mounted lives in a private mount
# namespace and goes away with it.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="$(realpath "${EDGE_APP_SHARED:-$ROOT/../shared}")"
WORK="${ARM_WORK:-/var/tmp/edge-app-arm64}"
ROOTFS="$WORK/rootfs-${SUITE:=trixie}"
OUT="$WORK/out"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
HOST_EDGE_APP="${HOST_EDGE_APP:-$(command -v edge-app || true)}"
QEMU_CPU="${QEMU_CPU:-cortex-a72}"
MODELS=(mobilenet_v2_1.0_224_quant tf2_mobilenet_v2_1.0_224_ptq mobilenet_v1_0.75_192_quant
  mobilenet_v1_0.5_160_quant mobilenet_v1_0.25_128_quant)
TESTS=(tests/model/test_preprocess.py tests/model/test_accuracy.py tests/cli/test_classify.py tests/test_images.py
  tests/model/test_postprocess.py tests/model/test_labels.py tests/evaluate/test_metrics.py tests/train/test_head.py)

die() { echo "check-aarch64: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (it builds a rootfs and mounts into it)"
[ -d "$SHARED/models" ] || die "no shared data at $SHARED (set EDGE_APP_SHARED)"
[ -x "$HOST_EDGE_APP" ] || die "no edge-app on this host to compare with (install it, or set HOST_EDGE_APP)"
HOST_PY="$(dirname "$HOST_EDGE_APP")/python"

TIMINGS="$(mktemp)"
FAILED=0
step() { # step NAME COMMAND...: run it, keep its time
  local name=$1 t0 t1
  shift
  echo "== $name"
  t0=$(date +%s.%N)
  if "$@"; then result=""; else result="  FAILED"; FAILED=$((FAILED + 1)); fi
  t1=$(date +%s.%N)
  printf '%-44s %8.1f s%s\n' "$name" "$(echo "$t1 - $t0" | bc)" "$result" | tee -a "$TIMINGS"
}

host_setup() {
  local missing=()
  command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
  command -v update-binfmts >/dev/null || missing+=(binfmt-support)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v bc >/dev/null || missing+=(bc)
  command -v arch-test >/dev/null || missing+=(arch-test) # mmdebstrap recommends it, and needs it for a foreign rootfs
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  update-binfmts --enable qemu-aarch64 2>/dev/null || true
  grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 || die "binfmt_misc has no qemu-aarch64 entry"
}

build_rootfs() {
  [ -x "$ROOTFS/usr/bin/apt-get" ] && return
  rm -rf "$ROOTFS.partial" && mkdir -p "$WORK"
  mmdebstrap --arch=arm64 --variant=minbase --include=ca-certificates "$SUITE" "$ROOTFS.partial" "$MIRROR"
  mv "$ROOTFS.partial" "$ROOTFS"
}

# qemu-user passes the host's /proc/cpuinfo through; LiteRT (XNNPACK's cpuinfo) reads it, finds no
# aarch64 core and crashes in allocate_tensors. A Cortex-A72 (a Pi 4) per host core stands in.
# cpuinfo also reads /sys/devices/system/cpu: without a sysfs it gives up, LiteRT quietly runs
# without XNNPACK (its builtin kernels, which round differently), and the check no longer tests
# what a Pi runs. So the rootfs gets a read-only sysfs too.
fake_cpuinfo() {
  local i
  for ((i = 0; i < $(nproc); i++)); do
    printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n' "$i"
    printf 'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n'
  done
}

arm() { # arm 'SHELL TEXT': run it as root in the arm64 rootfs, in /root, in a private mount namespace
  unshare -m --propagation private /bin/bash -euo pipefail -c '
    r=$1
    mount -t proc proc "$r/proc"
    mount --bind "$2" "$r/proc/cpuinfo"
    mount -t sysfs -o ro sysfs "$r/sys"
    mount --rbind /dev "$r/dev"
    mount --bind -o ro "$3" "$r/root/shared"
    mount --bind "$4" "$r/out"
    exec chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
      PIP_CERT=/etc/ssl/host-ca.pem ${6:+QEMU_CPU=$6} /bin/bash -euo pipefail -c "cd /root && $5"
  ' arm "$ROOTFS" "$WORK/cpuinfo" "$SHARED" "$OUT" "$1" "${QEMU_CPU:-}"
}

prepare() {
  rm -rf "$OUT"
  mkdir -p "$OUT" "$ROOTFS/root/shared" "$ROOTFS/out"
  fake_cpuinfo >"$WORK/cpuinfo"
  cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
  # This host's CAs, for pip behind a TLS-inspecting proxy (a Pi on a plain network needs none of this).
  cp "${HOST_CA:-/etc/ssl/certs/ca-certificates.crt}" "$ROOTFS/etc/ssl/host-ca.pem"
  git -C "$ROOT" bundle create "$OUT/edge-app.bundle" HEAD 2>/dev/null
}

VENV='. ~/edge-app-venv/bin/activate && cd ~/edge-app'
NUMPY_PIN='"numpy==$(/usr/bin/python3 -c "import numpy; print(numpy.__version__)")"'

# docs/raspberry-pi.md, "Install", word for word but for python3-picamera2 (not in Debian: checked here)
# and the clone's URL (the committed tree, as a bundle).
install_like_the_docs() {
  arm "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q git python3-venv python3-numpy >/dev/null
       apt-cache policy python3-picamera2 | grep -q Candidate && echo 'python3-picamera2: in $SUITE' \
         || echo 'python3-picamera2: not in Debian $SUITE (Raspberry Pi OS only): USB cameras go through OpenCV'
       rm -rf edge-app edge-app-venv && git -c init.defaultBranch=main -c advice.detachedHead=false clone -q /out/edge-app.bundle edge-app && cd edge-app
       python3 -m venv --system-site-packages ~/edge-app-venv
       . ~/edge-app-venv/bin/activate
       pip install -q --report /out/pip-report.json . $NUMPY_PIN
       echo \"python \$(python -V 2>&1 | cut -d' ' -f2), numpy \$(python -c 'import numpy; print(numpy.__version__)')\""
}

wheels() {
  "$HOST_PY" - "$OUT/pip-report.json" <<'EOF'
import json, sys
for item in json.load(open(sys.argv[1]))["install"]:
    url = item["download_info"]["url"]
    print(f"  {item['metadata']['name']:<28} {url.rsplit('/', 1)[-1]}")
EOF
}

arm_runs() {
  local m flowers="../shared/flowers-4" models="../shared/models"
  step "arm64: edge-app info" arm "$VENV && edge-app info --model $models/${MODELS[0]}.tflite"
  step "arm64: classify 7 photos" arm "$VENV && edge-app classify ../shared/images --model $models/${MODELS[0]}.tflite --json >/out/arm-classify.json"
  for m in "${MODELS[@]}"; do
    step "arm64: eval imagenet-100, $m" arm "$VENV && edge-app eval ../shared/imagenet-100/labels.csv --model $models/$m.tflite --out /out/arm-eval-$m --json >/out/arm-eval-$m.json"
  done
  step "arm64: train flowers-4" arm "$VENV && edge-app train $flowers/train --base $models/${MODELS[1]}.tflite --out /tmp/flowers.tflite --cache /tmp/emb && cp /tmp/flowers.tflite /out/arm-flowers.tflite"
  step "arm64: eval flowers-4" arm "$VENV && edge-app eval $flowers/test --model /out/arm-flowers.tflite --out /out/arm-eval-flowers --json >/out/arm-eval-flowers.json"
  step "arm64: run --record, synthetic, 90 frames" arm "$VENV && edge-app run --source synthetic --max-frames 90 --model $models/${MODELS[0]}.tflite --state-dir /tmp/state --record /out/arm-run.mp4 2>&1 | tail -3
       python -c 'import av; c = av.open(\"/out/arm-run.mp4\"); print(\"recorded:\", sum(1 for _ in c.decode(video=0)), \"playable frames\")'"
  step "arm64: resize pixels" arm "$VENV && python - /out/arm-resize.npz ../shared </root/resize_probe.py"
}

# The same resize on both machines: INTER_LINEAR (what the model was fed before) and INTER_LINEAR_EXACT.
RESIZE_PROBE='
import sys
from pathlib import Path
import cv2, numpy as np
from edge_app.geometry import central_crop
shared, out = Path(sys.argv[2]), {}
photos = lambda folder: sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".bmp", ".png"})
for photo in photos(shared / "images") + photos(shared / "imagenet-100")[:30]:
    crop = central_crop(cv2.imread(str(photo)))
    for name in ("INTER_LINEAR", "INTER_LINEAR_EXACT"):
        out[f"{name}/{photo.name}"] = cv2.resize(crop, (224, 224), interpolation=getattr(cv2, name))
np.savez(sys.argv[1], **out)
'

host_runs() {
  local m models="$SHARED/models"
  (cd "$ROOT" && "$HOST_EDGE_APP" classify "$SHARED/images" --model "$models/${MODELS[0]}.tflite" --json >"$OUT/host-classify.json")
  for m in "${MODELS[@]}"; do
    "$HOST_EDGE_APP" eval "$SHARED/imagenet-100/labels.csv" --model "$models/$m.tflite" --out "$OUT/host-eval-$m" --json >"$OUT/host-eval-$m.json"
  done
  "$HOST_EDGE_APP" eval "$SHARED/flowers-4/test" --model "$OUT/arm-flowers.tflite" --out "$OUT/host-eval-flowers" --json \
    >"$OUT/host-eval-flowers.json"
  "$HOST_PY" -c "$RESIZE_PROBE" "$OUT/host-resize.npz" "$SHARED"
}

compare() {
  "$HOST_PY" - "$OUT" "${MODELS[@]}" flowers <<'EOF'
import csv, json, sys
from pathlib import Path
import numpy as np

out, names = Path(sys.argv[1]), sys.argv[2:]
load = lambda name: json.loads((out / name).read_text())


def predictions(folder: str) -> list[tuple[str, str, str]]:
    """Each photo's predicted class and top-5, by file name (the two machines see different paths)."""
    with open(out / folder / "predictions.csv", newline="") as rows:
        return sorted((Path(r["file"]).name, r["predicted"], r["top"]) for r in csv.DictReader(rows))


problems = 0
arm, host = load("arm-classify.json"), load("host-classify.json")
for a, h in zip(arm, host):
    same = [t["label"] for t in a["top"]] == [t["label"] for t in h["top"]]
    gap = max(abs(x["score"] - y["score"]) for x, y in zip(a["top"], h["top"]))
    problems += not same
    print(f"  classify {Path(a['image']).name:<16} {a['top'][0]['label'][:24]:<24} "
          f"{'same labels' if same else 'LABELS DIFFER: ' + h['top'][0]['label']}, largest score gap {gap:.4f}")
for name in names:
    a, h = load(f"arm-eval-{name}.json"), load(f"host-eval-{name}.json")
    same_files = predictions(f"arm-eval-{name}") == predictions(f"host-eval-{name}")
    same = a["top1_correct"] == h["top1_correct"] and a["top5_correct"] == h["top5_correct"] and same_files
    problems += not same
    print(f"  eval {name:<32} arm64 top-1 {a['top1_correct']}/{a['n']} top-5 {a['top5_correct']}/{a['n']}, "
          f"x86_64 {h['top1_correct']}/{h['n']} {h['top5_correct']}/{h['n']}: {'identical' if same else 'DIFFERENT'}")
arm_px, host_px = np.load(out / "arm-resize.npz"), np.load(out / "host-resize.npz")
for mode in ("INTER_LINEAR", "INTER_LINEAR_EXACT"):
    keys = [k for k in arm_px.files if k.startswith(mode + "/")]
    differ = sum(int(np.count_nonzero(arm_px[k] != host_px[k])) for k in keys)
    total = sum(arm_px[k].size for k in keys)
    worst = max(int(np.abs(arm_px[k].astype(int) - host_px[k]).max()) for k in keys)
    problems += mode.endswith("EXACT") and differ > 0
    print(f"  resize {mode:<19} {differ / total:7.2%} of {total} channel values differ (at most by {worst}), {len(keys)} photos")
print("check-aarch64:", "arm64 and x86_64 agree" if not problems else f"{problems} DISAGREEMENTS")
sys.exit(1 if problems else 0)
EOF
}

arm_tests() {
  arm "$VENV && pip install -q '.[test]' $NUMPY_PIN && python -m pytest -q -p no:cacheprovider -m 'not slow' ${TESTS[*]} 2>&1 | tail -5"
}

step "host: qemu-user-static, binfmt" host_setup
step "arm64: rootfs (debian $SUITE, mmdebstrap)" build_rootfs
[ -x "$ROOTFS/usr/bin/apt-get" ] || die "no rootfs"
prepare
printf '%s' "$RESIZE_PROBE" >"$ROOTFS/root/resize_probe.py"
step "arm64: install as docs/raspberry-pi.md says" install_like_the_docs
echo "wheels pip chose for aarch64:"
wheels
arm_runs
step "x86_64: the same classify and evals" host_runs
step "arm64: tests (${#TESTS[@]} files, not slow)" arm_tests
echo "== arm64 against x86_64"
status=0
compare || status=$?
echo "== timings (qemu-user emulation: far slower than a real Pi)"
cat "$TIMINGS"
[ "$FAILED" -eq 0 ] || { echo "check-aarch64: $FAILED steps failed"; status=1; }
exit $status
