"""HATS export (the HEALPix-partitioned Parquet that LSDB reads), through ``hats-import``.

An optional extra (``pip install "twomass[hats]"``: hats-import, lsdb, dask). The rows
stream out as Parquet files of at most ``ROWS_PER_FILE`` rows, with ``hpx`` renamed
``_healpix_29``: our order-29 NESTED index is exactly HATS's spatial index, so
hats-import partitions by it (``use_healpix_29``) instead of recomputing it. The import
runs on an in-process dask client (threads, no worker processes).
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from twomass.access import formats
from twomass.access.selections import EVERYTHING, Selection
from twomass.access.source import resolve
from twomass.core.database import Database
from twomass.core.errors import TwomassError
from twomass.migrations import revision

ROWS_PER_FILE = 2_000_000
SPATIAL_INDEX = "_healpix_29"


class HatsUnavailable(TwomassError):
    """The optional HATS packages are not installed."""


class _RollingParquet:
    """Parquet files of at most ``ROWS_PER_FILE`` rows, ``hpx`` named ``_healpix_29``."""

    def __init__(self, folder: Path, schema: pa.Schema) -> None:
        names = [SPATIAL_INDEX if f.name == "hpx" else f.name for f in schema]
        self.schema = pa.schema([f.with_name(n) for f, n in zip(schema, names, strict=True)],
                                metadata=schema.metadata)
        self.folder, self.files, self.writer, self.rows = folder, [], None, 0

    def write(self, batch: pa.RecordBatch) -> None:
        if self.writer is None or self.rows >= ROWS_PER_FILE:
            self.close()
            path = self.folder / f"part{len(self.files):05d}.parquet"
            self.files.append(path)
            self.writer, self.rows = pq.ParquetWriter(path, self.schema), 0
        self.writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=self.schema))
        self.rows += batch.num_rows

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def export_hats(db: Database, catalog: str, out: Path, *, release: str | None = None,
                selection: Selection = EVERYTHING, columns: Sequence[str] | None = None,
                progress: bool = True):
    """Write the selected rows as the HATS catalog directory ``out`` (named after it)."""
    from twomass.access.export import ExportSummary, _table_metadata, stream_arrow

    try:
        with warnings.catch_warnings():  # a pandas option pandas 3.1 deprecates
            warnings.filterwarnings("ignore", message="The 'mode.chained_assignment'")
            from dask.distributed import Client
            from hats_import.catalog.arguments import ImportArguments
            from hats_import.pipeline import pipeline_with_client
    except ImportError:
        raise HatsUnavailable('HATS export needs the optional packages: pip install '
                              '"twomass[hats]"') from None
    if out.exists():
        raise TwomassError(f"{out} exists: remove it or choose another name")
    revision.require_current(db)
    start = time.perf_counter()
    with db.connection() as conn:
        source = resolve(conn, catalog, release, columns)
        for needed in ("ra", "dec", "hpx"):
            if needed not in source.columns:
                source = resolve(conn, catalog, release, (*source.columns, needed))
        text = source.query(selection).as_string(conn)
    staging = out.with_name(f".{out.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "input").mkdir(parents=True)
    metadata = _table_metadata(catalog, release, selection)
    box: list[_RollingParquet] = []

    def make(schema: pa.Schema) -> _RollingParquet:
        described = formats.described_schema(schema, source.described, metadata)
        box.append(_RollingParquet(staging / "input", described))
        return box[0]

    try:
        bar = tqdm(unit=" rows", disable=not progress, leave=False, desc=f"export {catalog}")
        rows = stream_arrow(db.url, text, make, bar)
        bar.close()
        if rows == 0:
            raise TwomassError(f"no {catalog} rows selected: a HATS catalog needs at least one")
        arguments = ImportArguments(
            output_path=str(out.parent), output_artifact_name=out.name,
            input_file_list=[str(p) for p in box[0].files], file_reader="parquet",
            ra_column="ra", dec_column="dec", use_healpix_29=True,
            tmp_dir=str(staging / "tmp"), progress_bar=progress, simple_progress_bar=True,
            expected_total_rows=rows, resume=False)
        with Client(processes=False, n_workers=1, threads_per_worker=2,
                    dashboard_address=None, local_directory=str(staging / "dask")) as client:
            pipeline_with_client(arguments, client)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportSummary(rows, time.perf_counter() - start, out, "hats")
