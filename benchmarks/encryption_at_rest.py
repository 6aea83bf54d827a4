"""Benchmark: what encryption at rest costs ingest and download of one large file, against the same work done on
plaintext in the same run (what the store did before encryption).

- ingest, encrypted: `receive_path` + `evidence_receive` (encrypts into the spool while the three digests run in
  parallel threads, then a rename into storage);
- ingest, plaintext: the same pass writing the bytes as they are (the three digests in parallel threads), libmagic
  on the spool, a rename;
- download, encrypted: `verified_media_chunks` (decrypts, re-hashes SHA-256, holds the last chunk back);
- download, plaintext: reading the stored file in 1 MiB chunks and re-hashing SHA-256, as downloads did.

Ends with `RESULT encrypted_vs_plaintext=<ratio>`, the larger of the two ratios (aim: at most 1.3).
Usage: .venv/bin/python benchmarks/encryption_at_rest.py [--size-mib 1024] [--dir DIRECTORY]
"""

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ingest_vs_coreutils import MIB, REPOSITORY, _close_database, django_setup, sample_write, throwaway_case


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="Size of the test file in MiB (default 1024).")
    parser.add_argument("--dir", type=Path, help="Where to create the temporary directory (default: var/).")
    args = parser.parse_args()
    base = args.dir or Path(os.environ.get("EVIDENCEMEDIA_DATA_DIR", REPOSITORY / "var"))
    base.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="benchmark-encryption-", dir=base))
    try:
        return benchmark(workdir, size=args.size_mib * MIB)
    finally:
        _close_database()
        shutil.rmtree(workdir, ignore_errors=True)


def benchmark(workdir: Path, *, size: int) -> int:
    sample = workdir / "sample.mp4"
    sample_write(sample, size)
    django_setup(data_dir=workdir / "data", max_upload=size + MIB)
    organisation, case, actor = throwaway_case()

    plain_ingest, plain_path, plain_digests = plaintext_ingest(sample, workdir / "plaintext-store")
    encrypted_ingest, item = encrypted_ingest_run(sample, case=case, actor=actor)
    plain_download, plain_sha256 = plaintext_download(plain_path)
    encrypted_download, encrypted_sha256 = encrypted_download_run(item, actor=actor)

    agree = plain_digests["sha256"] == item.sha256 == plain_sha256 == encrypted_sha256
    mib = size / MIB
    ingest_ratio, download_ratio = encrypted_ingest / plain_ingest, encrypted_download / plain_download
    print(f"{'file':<30}{mib:>10,.0f} MiB")
    print(f"{'ingest, plaintext':<30}{plain_ingest:>10.2f} s    {mib / plain_ingest:,.0f} MiB/s")
    print(f"{'ingest, encrypted':<30}{encrypted_ingest:>10.2f} s    {mib / encrypted_ingest:,.0f} MiB/s")
    print(f"{'download, plaintext':<30}{plain_download:>10.2f} s    {mib / plain_download:,.0f} MiB/s")
    print(f"{'download, encrypted':<30}{encrypted_download:>10.2f} s    {mib / encrypted_download:,.0f} MiB/s")
    print(f"{'ratio ingest enc / plain':<30}{ingest_ratio:>10.2f}   (aim: at most 1.3)")
    print(f"{'ratio download enc / plain':<30}{download_ratio:>10.2f}   (aim: at most 1.3)")
    print(f"{'digests agree':<30}{'yes' if agree else 'NO':>10}")
    print(f"RESULT encrypted_vs_plaintext={max(ingest_ratio, download_ratio):.2f}")
    return 0 if agree else 1


def plaintext_ingest(path: Path, store: Path) -> tuple[float, Path, dict[str, str]]:
    import magic
    from django.conf import settings

    from cases.upload import CHUNK_SIZE, ParallelDigests

    store.mkdir()
    started = time.perf_counter()
    digests = ParallelDigests()
    with (
        open(path, "rb") as source,
        tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR, delete=False) as spool,
    ):
        while chunk := source.read(CHUNK_SIZE):
            digests.update(chunk)
            spool.write(chunk)
    values = digests.hexdigests()
    magic.from_file(spool.name, mime=True)
    stored = store / values["sha256"]
    os.replace(spool.name, stored)
    return time.perf_counter() - started, stored, values


def encrypted_ingest_run(path: Path, *, case, actor):
    from cases import services
    from cases.upload import receive_path

    started = time.perf_counter()
    received = receive_path(path)
    receipt = services.evidence_receive(case=case, received=received, actor=actor)
    seconds = time.perf_counter() - started
    received.close()
    return seconds, receipt.item


def plaintext_download(path: Path) -> tuple[float, str]:
    started = time.perf_counter()
    hasher = hashlib.sha256()
    with open(path, "rb") as stored:
        while chunk := stored.read(MIB):
            hasher.update(chunk)
    return time.perf_counter() - started, hasher.hexdigest()


def encrypted_download_run(item, *, actor) -> tuple[float, str]:
    from custody.access import verified_media_chunks

    # verified_media_chunks re-hashes what it serves and raises IntegrityAlarm on a mismatch: a completed stream
    # of the right length is the recorded SHA-256.
    started = time.perf_counter()
    served = sum(len(chunk) for chunk in verified_media_chunks(item=item, actor=actor))
    seconds = time.perf_counter() - started
    return seconds, item.sha256 if served == item.size else "incomplete"


if __name__ == "__main__":
    sys.exit(main())
