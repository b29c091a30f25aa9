"""Decodes an ESC/POS print job with an independent emulator and checks it.

Usage: decode.py JOB.bin WIDTH_DOTS EXPECTED.json OUT_DIR

EXPECTED.json: {"copies": N, "lines": [...], "copy_labels": [...], "qr": "..."}.
Each receipt (one per cut) is rendered to PNG by emupos (pinned in requirements.txt). emupos
draws every byte as a single-byte code-page cell and ignores FS & / FS ., so the Chinese text
is recovered from its text dump (cp437 cells back to bytes, bytes decoded as GB18030) and
compared; the QR code is decoded from the PNG with zbarimg. Prints one JSON report; exits 1
on the first mismatch, naming it.
"""

import io
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import yaml
from PIL import Image, ImageOps
from emupos.config import PrinterProfile
from emupos.printer.printer import Printer


def fail(message: str) -> None:
    print(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
    sys.exit(1)


def receipts(job: bytes, width_dots: int):
    text = resources.files("emupos").joinpath("profiles/printers/epson-tm-t20iii.yaml").read_text()
    profile = yaml.safe_load(text)
    profile["width_dots"] = width_dots
    printer = Printer(
        "anjian-test",
        PrinterProfile.model_validate(profile),
        sensor_open_level="high",
        job_idle_timeout_ms=60_000,
    )
    printer.open_connection("c", 0.0)
    out = printer.receive("c", job, 0.0)
    done = printer.close_connection("c", 0.1)
    return list(out.receipts) + list(done.receipts)


def recover(dump_line: str) -> str:
    """A dump line is one cp437 cell per byte; turn it back into the GB18030 text sent."""
    raw = bytearray()
    for cell in dump_line:
        try:
            raw += cell.encode("cp437")
        except UnicodeEncodeError:
            raw += cell.encode("utf-8")
    return raw.decode("gb18030", errors="replace")


def squeeze(text: str) -> str:
    return "".join(text.split())


def main() -> None:
    job_path, width, expected_path, out_dir = sys.argv[1:5]
    expected = json.loads(Path(expected_path).read_text(encoding="utf-8"))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    printed = receipts(Path(job_path).read_bytes(), int(width))
    if len(printed) != expected["copies"]:
        fail(f"{len(printed)} receipts (cuts), expected {expected['copies']}")
    report = []
    for n, receipt in enumerate(printed, start=1):
        lines = [recover(line) for line in receipt.text.splitlines()]
        body = squeeze("".join(line for line in lines if not line.startswith("[")))
        for line in expected["lines"]:
            if squeeze(line) not in body:
                fail(f"copy {n}: text not found: {line}")
        label = expected["copy_labels"][n - 1]
        if squeeze(label) not in body:
            fail(f"copy {n}: copy label not found: {label}")
        qr_dumps = [line[4:-1] for line in receipt.text.splitlines() if line.startswith("[qr ")]
        if qr_dumps != [expected["qr"]]:
            fail(f"copy {n}: QR data in the job {qr_dumps!r}")
        png = out / f"copy{n}.png"
        image = Image.open(io.BytesIO(receipt.png)).convert("L")
        # emupos draws the symbol with no quiet zone; a white margin lets zbar find it.
        ImageOps.expand(image, border=48, fill=255).save(png)
        scanned = subprocess.run(
            ["zbarimg", "--quiet", "--raw", "-Sqrcode.enable", str(png)],
            capture_output=True,
            text=True,
        )
        if scanned.returncode != 0 or scanned.stdout.strip() != expected["qr"]:
            fail(f"copy {n}: zbarimg read {scanned.stdout.strip()!r} ({scanned.stderr.strip()})")
        report.append({"copy": n, "width_dots": receipt.width_dots, "height_dots": receipt.height_dots, "png": str(png)})
    print(json.dumps({"ok": True, "receipts": report}, ensure_ascii=False))


if __name__ == "__main__":
    main()
