"""Peak memory of concurrent teaching uploads: six at once of a photo small as a file and huge
as pixels, decoded as main decoded them (edge_app.images.decode_image: anything up to 100
megapixels, JPEGs reduced only beyond 4096 a side) against teaching's decode now
(edge_app.teach.photos.decode_example: at most 16 megapixels after a reduced decode, within the
process-wide pixel budget). Each side runs in a fresh child process; its peak RSS is the figure.

    python benchmarks/bench_upload_memory.py [--uploads 6]

Cases: a 9999x9999 PNG (black, every row there), a JPEG of a few hundred bytes claiming
65000x65000, and a 4000x3000 phone-sized JPEG (accepted by both: the reduced decode is the gain).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from _common import ROOT  # noqa: F401  (puts tests/ on the path)

from tests.helpers.declared_images import jpeg_declaring, png_declaring

if TYPE_CHECKING:
    import numpy as np


def _child(mode: str, photo_path: str, uploads: int) -> None:
    import numpy as np

    from edge_app.errors import EdgeAppError

    photo = Path(photo_path).read_bytes()
    if mode == "before":
        from edge_app.images import decode_image

        def decode() -> object:
            return decode_image(np.frombuffer(photo, np.uint8), Path("the uploaded photo"))
    else:
        from edge_app.teach.photos import decode_example

        def decode() -> object:
            return decode_example(photo)

    start = threading.Barrier(uploads)
    outcomes: list[str] = []

    def upload() -> None:
        start.wait()
        try:
            image = decode()
            outcomes.append(f"decoded {getattr(image, 'shape', '?')}")
        except EdgeAppError as exc:
            outcomes.append(f"refused: {type(exc).__name__}")

    threads = [threading.Thread(target=upload) for _ in range(uploads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{peak_mb:.0f} {sorted(set(outcomes))}")


def _measure(mode: str, photo: Path, uploads: int) -> tuple[float, str]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(photo), "--uploads", str(uploads)],
        capture_output=True,
        text=True,
        check=True,
    )
    peak, _, outcome = done.stdout.strip().partition(" ")
    return float(peak), outcome


def _photo_like(width: int, height: int) -> np.ndarray:
    """Smooth noise, which compresses about as a phone photo does (a few MB at 12 megapixels)."""
    import cv2
    import numpy as np

    coarse = np.random.default_rng(0).integers(0, 255, (height // 16, width // 16, 3), np.uint8)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=6)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PHOTO"))
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.uploads)
        return
    import cv2

    cases = {
        "PNG declaring 9999x9999": png_declaring(9999, 9999),
        "JPEG declaring 65000x65000": jpeg_declaring(65000, 65000),
        "4000x3000 JPEG photo": cv2.imencode(".jpg", _photo_like(4000, 3000))[1].tobytes(),
    }
    with tempfile.TemporaryDirectory() as folder:
        for name, data in cases.items():
            photo = Path(folder) / "photo"
            photo.write_bytes(data)
            before, said_before = _measure("before", photo, args.uploads)
            after, said_after = _measure("after", photo, args.uploads)
            print(
                f"{args.uploads} concurrent uploads, {name} ({len(data) / 1024:.0f} KB): peak RSS "
                f"before {before:.0f} MB {said_before}, after {after:.0f} MB {said_after}, ratio {before / after:.1f}x"
            )


if __name__ == "__main__":
    main()
