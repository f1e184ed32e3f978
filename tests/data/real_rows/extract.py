"""Write the real 2MASS row extracts of this folder from the reference files.

Usage: python extract.py REFERENCE_DIR (the folder of real 2MASS query outputs described
in README.md here). Only the columns the flag tests need are kept; empty = NULL.
"""

import csv
import json
import sys
from pathlib import Path

from astropy.io import ascii
from astropy.io.votable import parse_single_table

HERE = Path(__file__).parent
TEXT = ("designation", "ph_qual", "rd_flg", "cc_flg", "ndet")
BANDS = [f"{b}_{c}" for b in "jhk" for c in ("m", "cmsig", "msigcom", "snr")]
COLUMNS = (["source", "ra", "dec", "designation"] + BANDS
           + ["ph_qual", "rd_flg", "cc_flg", "ndet", "j_psfchi", "h_psfchi", "k_psfchi",
              "dist_edge_ns", "dist_edge_ew", "j_msig", "h_msig", "k_msig"])
#: The 60 PSC columns of a raw bulk line, in order.
PSC_ORDER = """ra dec err_maj err_min err_ang designation j_m j_cmsig j_msigcom j_snr h_m h_cmsig
h_msigcom h_snr k_m k_cmsig k_msigcom k_snr ph_qual rd_flg bl_flg cc_flg ndet prox pxpa pxcntr
gal_contam mp_flg pts_key hemis date scan glon glat x_scan jdate j_psfchi h_psfchi k_psfchi
j_m_stdap j_msig_stdap h_m_stdap h_msig_stdap k_m_stdap k_msig_stdap dist_edge_ns dist_edge_ew
dist_edge_flg dup_src use_src a dist_opt phi_opt b_m_opt vr_m_opt nopt_mchs ext_key scan_key
coadd_key coadd""".split()


def text(value) -> str:
    """The value as printed in the source (masked -> empty)."""
    if value is None or getattr(value, "mask", False) is True or str(value) in ("--", "\\N"):
        return ""
    return str(value).strip()


def rows_of_table(table, source: str):
    for r in table:
        yield {c: (source if c == "source" else text(r[c]) if c in r.colnames else "")
               for c in COLUMNS}


def ipac(path: Path):
    conv = {c: [ascii.convert_numpy(str)] for c in TEXT}
    return ascii.read(path, format="ipac", converters=conv)


def main(ref: Path) -> None:
    psc = []
    for name in ("2mass-m31-2412rows.tbl", "fp_2mass.fp_psc29179.tbl"):
        psc += rows_of_table(ipac(ref / name), name)
    for name in ("Polygon.xml", "tabledata_votable.xml"):
        psc += rows_of_table(parse_single_table(ref / name).to_table(), name)
    doc = json.loads((ref / "catalogs.md.2MASS_PSC.json").read_text())
    doc["dec"] = doc["decl"]
    name = "catalogs.md.2MASS_PSC.json"
    psc.append({c: name if c == "source" else text(doc.get(c)) for c in COLUMNS})
    name = "psc_aaa_line1_from_astrometry.net_test_2mass.psv"
    line = dict(zip(PSC_ORDER, (ref / name).read_text().rstrip("\n").split("|"), strict=True))
    psc.append({c: name if c == "source" else text(line.get(c)) for c in COLUMNS})
    with open(HERE / "psc_rows.csv", "w", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(psc)

    names = []
    t = ascii.read(ref / "2MASS_results.ecsv", format="ecsv")
    names += [("2MASS_results.ecsv", f"{r['RAJ2000']:.6f}", f"{r['DEJ2000']:.6f}", r["_2MASS"])
              for r in t]
    with open(ref / "query_res.csv") as f:
        names += [("query_res.csv", r["RAJ2000"], r["DEJ2000"], r["2MASS"])
                  for r in csv.DictReader(f)]
    with open(HERE / "designations.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["source", "ra", "dec", "designation"])
        w.writerows(names)
    print(f"{len(psc)} PSC rows, {len(names)} designations")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
