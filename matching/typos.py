"""Typo repair of references: one wrong digit, or two neighbouring digits swapped.

Only references that fail the check digit are repaired: mod 11 catches every single wrong digit and
every swap of neighbours, so a valid Kassenzeichen is never one edit away from another valid one.
The candidates are computed, not searched: for each position the check digit admits exactly one
replacement digit (mod 11: the weight is invertible; Luhn: digit → contribution is a bijection), so a
reference has at most ``digits`` substitutions plus ``digits − 1`` swaps to look up — set-based, one
list per reference, exploded and joined with the open items. A repair counts only if the variant
passes the check digit AND exists (the caller keeps it only when exactly one Kassenzeichen fits).
"""

from __future__ import annotations

import polars as pl

from claims.kassenzeichen_expr import check_ok, digit
from matching.config import MatchConfig
from matching.rows import among_sorted

_MOD11_INVERSE = {w: pow(w, -1, 11) for w in range(2, 8)}
#: Luhn: which digit gives a doubled contribution of 0..9 (2d, minus 9 above 9)
_LUHN_UNDOUBLE = [0, 5, 1, 6, 2, 7, 3, 8, 4, 9]


def _weight(scheme: str, j: int) -> int:
    """mod11 weight, or Luhn doubling flag (1 = doubled), of the body digit ``j`` places from the right."""
    return 2 + j % 6 if scheme == "mod11" else int(j % 2 == 0)


def _contribution(scheme: str, j: int, d: pl.Expr) -> pl.Expr:
    if scheme == "mod11":
        return d * _weight(scheme, j)
    return ((d * 2) % 10 + (d * 2) // 10) if j % 2 == 0 else d


def _replacement(scheme: str, j: int, need: pl.Expr) -> pl.Expr:
    """The digit whose contribution at place ``j`` is ``need`` (mod 11 / mod 10); null if none."""
    if scheme == "mod11":
        d = (need * _MOD11_INVERSE[_weight(scheme, j)]) % 11
        return pl.when(d < 10).then(d).otherwise(None)
    if j % 2 == 0:
        return pl.lit(pl.Series(_LUHN_UNDOUBLE, dtype=pl.Int32)).gather(need)
    return need


def _with_variants(todo: pl.LazyFrame, n: int, scheme: str) -> pl.LazyFrame:
    """``todo`` (column ``ref``, an ``n``-digit string failing the check) with ``kz_norm``: the list of
    candidate strings. Digits and the check sum are materialised first, so each is computed once."""
    r = pl.col("ref")
    body = n - 1
    mod = 11 if scheme == "mod11" else 10
    staged = todo.with_columns(
        [_contribution(scheme, body - 1 - i, digit(r, i)).alias(f"_c{i}") for i in range(body)]
        + [digit(r, body).alias("_check")]
    ).with_columns(pl.sum_horizontal([f"_c{i}" for i in range(body)]).alias("_total"))
    total, check = pl.col("_total"), pl.col("_check")
    out: list[pl.Expr] = []
    for i in range(body):
        need = (-(total - pl.col(f"_c{i}") + check)) % mod
        d = _replacement(scheme, body - 1 - i, need)
        out.append(pl.concat_str([r.str.slice(0, i), d.cast(pl.String), r.str.slice(i + 1)]))
    new_check = (mod - total % mod) % mod
    out.append(pl.when(new_check < 10).then(pl.concat_str([r.str.slice(0, body), new_check.cast(pl.String)])))
    for i in range(n - 1):
        out.append(pl.concat_str([r.str.slice(0, i), r.str.slice(i + 1, 1), r.str.slice(i, 1), r.str.slice(i + 2)]))
    return staged.select("transaction_id", "ref", pl.concat_list(out).alias("kz_norm"))


def _int_variants(todo: pl.DataFrame, n: int, scheme: str) -> pl.DataFrame:
    """``_i`` (row of ``todo``), ``_v``: the candidates of :func:`_with_variants` as Int64 arithmetic on
    the reference read as a number (``ref``: ``n`` ≤ 18 ASCII digits), those failing the check left out.

    With ``d_j`` the digit ``j`` places from the right (``d_0`` the check digit): a substitution at ``j``
    is ``x + (new − d_j)·10^j``, a swap of places ``j`` and ``j − 1`` is ``x + (d_{j−1} − d_j)·9·10^(j−1)``."""
    x = pl.col("_x")
    mod = 11 if scheme == "mod11" else 10
    d = [pl.col(f"_d{j}") for j in range(n)]
    c = [pl.lit(0)] + [pl.col(f"_c{j}") for j in range(1, n)]
    staged = (
        todo.select(pl.col("ref").cast(pl.Int64, strict=False).alias("_x")).with_row_index("_i")
        .with_columns([((x // 10**j) % 10).alias(f"_d{j}") for j in range(n)])
        .with_columns([_contribution(scheme, j - 1, d[j]).alias(f"_c{j}") for j in range(1, n)])
        .with_columns(pl.sum_horizontal(c[1:]).alias("_total"))
    )
    total = pl.col("_total")
    variants: list[pl.Expr] = []
    for j in range(1, n):  # substitutions: pass the check by construction
        new = _replacement(scheme, j - 1, (-(total - c[j] + d[0])) % mod)
        variants.append(x + (new - d[j]) * 10**j)
    new_check = (mod - total % mod) % mod
    variants.append(pl.when(new_check < 10).then(x - d[0] + new_check))
    for j in range(1, n):  # swaps: kept where the check sum after the swap passes (else null)
        if j == 1:  # the last body digit and the check digit
            ok = (total - c[1] + _contribution(scheme, 0, d[0]) + d[1]) % mod == 0
        else:
            ok = (total - c[j] - c[j - 1] + _contribution(scheme, j - 1, d[j - 1])
                  + _contribution(scheme, j - 2, d[j]) + d[0]) % mod == 0
        variants.append(pl.when(ok).then(x + (d[j - 1] - d[j]) * (9 * 10 ** (j - 1))))
    # one row per (reference, variant): a column each first
    wide = staged.select("_i", "_x", *(e.alias(f"_v{k}") for k, e in enumerate(variants)))
    return wide.unpivot(index=["_i", "_x"], value_name="_v").filter(
        pl.col("_v").is_not_null() & (pl.col("_v") != x)).select("_i", "_v")


def _int_repairs(todo: pl.DataFrame, kz_index: pl.DataFrame, n: int, scheme: str) -> pl.DataFrame:
    """transaction_id, ref, kz_norm: the indexed Kassenzeichen among the integer variants of ``todo``."""
    found = _int_variants(todo, n, scheme)
    if "_kz" in kz_index.columns:  # the sorted integer keys of evidence.key_index
        # variants outside the numbers issued cannot exist: a smaller set to look up (a Kassenzeichen
        # numbering is dense; a wrong leading digit leaves its range)
        keys = kz_index["_kz"]
        found = found.filter(pl.col("_v").is_between(keys.min(), keys.max()))
        found = found.filter(pl.col("_v").is_in(among_sorted(found["_v"].alias("_kz"), kz_index)["_kz"].implode()))
    else:
        wanted = found["_v"].unique().cast(pl.String).str.zfill(n)
        present = kz_index.filter(pl.col("kz_norm").is_in(wanted.implode()))
        found = found.filter(pl.col("_v").cast(pl.String).str.zfill(n).is_in(present["kz_norm"].implode()))
    return pl.concat([todo.select(pl.col("transaction_id", "ref").gather(found["_i"])),
                      found.select(pl.col("_v").cast(pl.String).str.zfill(n).alias("kz_norm"))], how="horizontal")


def _str_repairs(todo: pl.DataFrame, kz_index: pl.DataFrame, n: int, scheme: str) -> pl.DataFrame:
    """transaction_id, ref, kz_norm: the indexed Kassenzeichen among the string variants of ``todo`` (any
    ``n``; for references of more than 18 digits or with other than ASCII digits)."""
    # eager steps: in one lazy plan the optimiser pushed the check-digit filter below the join
    found = _with_variants(todo.lazy(), n, scheme).collect().explode("kz_norm")
    found = found.filter(pl.col("kz_norm").is_not_null() & (pl.col("kz_norm") != pl.col("ref")))
    # existence first: cheap (each indexed Kassenzeichen probes the few variants, not the other way round)
    variants = found["kz_norm"].unique()
    if "_kz" in kz_index.columns:  # a key is the number of a Kassenzeichen of n ASCII digits
        ints = variants.cast(pl.Int64, strict=False).drop_nulls()
        present = among_sorted(ints.alias("_kz"), kz_index)["_kz"].unique().cast(pl.String).str.zfill(n).to_frame("kz_norm")
    else:
        present = kz_index.filter(pl.col("kz_norm").is_in(variants.implode())).select("kz_norm").unique()
    found = found.join(present, on="kz_norm", how="semi")
    # swaps are not valid by construction; lazy so the integer cast is shared
    return found.lazy().filter(check_ok(pl.col("kz_norm"), n, scheme)).collect()


def typo_repairs(refs: pl.DataFrame, kz_index: pl.DataFrame, cfg: MatchConfig) -> pl.DataFrame:
    """Kassenzeichen one edit away from each invalid (transaction_id, ref), with ``n_fits`` per ref.

    ``refs``: transaction_id, ref (``digits`` long), valid. ``kz_index``: kz_norm (the Kassenzeichen),
    or for ``digits`` ≤ 18 ``_kz``: the keys of :func:`matching.evidence.key_index` (sorted, no nulls).
    Returns transaction_id, ref, kz_norm, n_fits (rows with ``n_fits`` > 1 serve as suggestions).
    """
    schema = pl.Schema({"transaction_id": refs.schema["transaction_id"], "ref": pl.String(), "kz_norm": pl.String(),
                        "n_fits": pl.UInt32()})
    n = cfg.digits
    todo = refs.filter(~pl.col("valid")).select("transaction_id", "ref").unique()
    if cfg.check_digit == "none" or todo.is_empty():
        return pl.DataFrame(schema=schema)
    if n <= 18:  # n ASCII digits fit an Int64; the rest (other Unicode digits) by strings
        ascii_ref = pl.col("ref").str.contains(f"^[0-9]{{{n}}}$")
        found = pl.concat([
            _int_repairs(todo.filter(ascii_ref), kz_index, n, cfg.check_digit),
            _str_repairs(todo.filter(~ascii_ref), kz_index, n, cfg.check_digit),
        ])
    else:
        found = _str_repairs(todo, kz_index, n, cfg.check_digit)
    return (
        found.unique(["transaction_id", "ref", "kz_norm"])
        .with_columns(pl.len().over("transaction_id", "ref").cast(pl.UInt32).alias("n_fits"))
        .select(list(schema))
    )
