"""The hand-off's requests going out (issue 18 §4; docs/AMTSHILFE.md "Requests going out"): what the job
reads, computes, writes and books for debtors outside the district, beside its batch for our own office.

They ride on the hand-off run: prepared with it (drafts in ``prepared/amtshilfe_out/``), released by the
same four-eyes release, booked in the same transaction (migration 13: ``amtshilfe_out_requests``,
``amtshilfe_out_claims``, ``amtshilfe_out_events``) and written to
``<tenant_dir>/outbox/amtshilfe_out/<authority id>/`` after the commit: one Requests XML per authority and
run (validated against the XSD by the writer), then its manifest. Never twice: the claims of an open
request are skipped ``in_enforcement`` by the next hand-off, the run books once, every event id is unique.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from amtshilfe import model
from amtshilfe.directory import DIRECTORY_COLUMNS, read_directory
from amtshilfe.outgoing import Us, recalls, requests, route, settled
from amtshilfe.xml_format import write_requests
from claims.vocab import HandoffSkip, OutgoingEvent, OutgoingState
from jobs.outbox import deliver, sha256_of
from ledger.amtshilfe_out import out_claims, out_requests
from ledger.config import TenantConfig
from ledger.tables import AMTSHILFE_OUT_CLAIMS, AMTSHILFE_OUT_EVENTS, AMTSHILFE_OUT_REQUESTS

#: The outbox below the tenant folder; one folder per authority id inside.
OUTBOX = "outbox/amtshilfe_out"
#: The run folder's sub-folders of the drafts and the released files.
PREPARED, FINAL = "prepared/amtshilfe_out", "final/amtshilfe_out"
#: The input frames this module adds to the hand-off's (``in_<phase>_<name>``).
INPUTS = ("out_open", "out_numbers", "out_returned", "out_sent", "out_claims", "out_forwarded", "directory")


def read_out_inputs(con: duckdb.DuckDBPyConnection, cfg: TenantConfig) -> dict[str, pl.DataFrame]:
    """The requests sent so far (open ones, their claims, who returned, who forwarded) and the directory."""
    reqs = out_requests(con, cfg.tenant)
    claims = out_claims(con, cfg.tenant)
    sent = reqs.filter(pl.col("state") == str(OutgoingState.SENT))
    path = cfg.amtshilfe.authorities_file
    directory = read_directory(cfg.tenant_dir / path) if path else None
    last = reqs.sort("request_date", "file_number").group_by("debtor_id").agg(pl.col("state").last())
    return {
        "out_open": claims.join(sent.select("file_number"), on="file_number", how="semi"),
        "out_numbers": reqs.select(pl.col("file_number").alias("case_number")),
        # the debtor's last request came back (returned, fruitless): ours to handle, not sent out again
        "out_returned": last.filter(pl.col("state").is_in([str(OutgoingState.RETURNED),
                                                            str(OutgoingState.UNCOLLECTIBLE)])).select("debtor_id"),
        "out_sent": sent.select("file_number", "authority_id"),
        "out_claims": claims.join(sent.select("file_number"), on="file_number", how="semi"),
        "out_forwarded": reqs.filter(pl.col("forwarded")).select("file_number"),
        "directory": directory if directory is not None else pl.DataFrame(
            schema={c: pl.Int64() if c == "line" else pl.String() for c in DIRECTORY_COLUMNS}),
    }


def without_open_requests(claims: pl.DataFrame, out_open: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(claims left, skipped)``: a claim in an open request is with another authority — skipped
    ``in_enforcement`` like a claim in an open case of our office."""
    inside = claims.join(out_open.select("receivable_id"), on="receivable_id", how="semi")
    skipped = inside.select("receivable_id", "debtor_id",
                            pl.coalesce("parent_receivable_id", "receivable_id").alias("main_receivable_id"),
                            pl.lit(str(HandoffSkip.IN_ENFORCEMENT)).alias("reason"),
                            pl.lit(None, pl.String).alias("block_reason"))
    return claims.join(out_open.select("receivable_id"), on="receivable_id", how="anti"), skipped


def split(cfg: TenantConfig, cases: pl.DataFrame, items: pl.DataFrame,
          inp: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Route the built cases (:func:`amtshilfe.outgoing.route`): ``home_cases``/``home_items`` for our
    office, ``out_cases``/``out_items`` going out, ``held_skipped`` (the held cases' claims as skip rows)."""
    directory = inp["directory"] if inp["directory"].height else None
    r = route(cases, cfg.amtshilfe, directory, inp["out_returned"]["debtor_id"])
    home = r.home.implode()
    held = items.join(r.held.select("case_number", "debtor_id", "reason"), on="case_number", how="inner").select(
        "receivable_id", "debtor_id", "main_receivable_id", "reason", pl.lit(None, pl.String).alias("block_reason"))
    return {"home_cases": cases.filter(pl.col("case_number").is_in(home)),
            "home_items": items.filter(pl.col("case_number").is_in(home)),
            "out_cases": r.out, "out_items": items.join(r.out.select("case_number"), on="case_number", how="semi"),
            "held_skipped": held}


def for_reconcile(cases: pl.DataFrame, items: pl.DataFrame, out_cases: pl.DataFrame,
                  out_items: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Our office's and the outgoing cases as one, for ``jobs.handoff.steps.reconcile``: an outgoing case's
    number carries its authority (``<authority id>|<case number>``), so a debtor routed elsewhere at the
    booking than at the release differs and is dropped, never sent where nobody released it."""
    tagged = out_cases.select("case_number", (pl.col("authority_id") + "|" + pl.col("case_number")).alias("_k"))
    oc = out_cases.join(tagged, on="case_number").with_columns(pl.col("_k").alias("case_number")).drop("_k")
    oi = out_items.join(tagged, on="case_number").with_columns(pl.col("_k").alias("case_number")).drop("_k")
    return (pl.concat([cases, oc.select(cases.columns)], how="vertical_relaxed"),
            pl.concat([items, oi.select(items.columns)], how="vertical_relaxed"))


def settlements(claims: pl.DataFrame, inp: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The open requests whose claims are all closed now (``file_number``, ``authority_id``, ``recall``)."""
    return settled(inp["out_sent"], inp["out_claims"],
                   claims.select("receivable_id", pl.col("amount_cents").alias("open_cents")),
                   inp["out_forwarded"]["file_number"])


def us(cfg: TenantConfig) -> Us:
    """Our enforcement office as the requesting authority; the collection account receives the money."""
    en = cfg.enforcement
    acct = next((a for a in cfg.accounts if a.iban.replace(" ", "").upper() == cfg.collection_account), None)
    return Us(authority_id=en.office_id, name=en.office_name, street=en.office_street, postcode=en.office_postcode,
              city=en.office_city, iban=cfg.collection_account, bic=acct.bic if acct else None,
              notice_authority=cfg.settings.tenant.name or cfg.tenant)


def file_name(cfg: TenantConfig, day: date, run_id: str) -> str:
    """The Requests file of a run (the same name in every authority's folder)."""
    return f"{cfg.tenant}-AHOUT-{day:%Y%m%d}-{run_id[-8:]}.xml"


def write_files(cfg: TenantConfig, day: date, run_id: str, folder: Path, out_cases: pl.DataFrame,
                out_items: pl.DataFrame, settled_: pl.DataFrame, tag: str, created: datetime) -> list[dict[str, Any]]:
    """One Requests XML per authority (its requests and its Rücknahmen) into ``folder/<authority id>/``;
    the files written (authority, name, SHA-256, the file's message id, counts)."""
    me = us(cfg)
    reqs = requests(out_cases, out_items, me, day)
    recall = settled_.filter(pl.col("recall"))
    changes = recalls(recall.select("file_number"), me, day)
    to = pl.concat([out_cases.select("case_number", "authority_id").rename({"case_number": "file_number"}),
                    recall.select("file_number", "authority_id")])
    authorities = sorted(set(to["authority_id"].to_list()))
    who = out_cases.unique("authority_id", keep="first").select(
        "authority_id", "authority_name", "authority_street", "authority_postcode", "authority_city")
    name = file_name(cfg, day, run_id)
    files: list[dict[str, Any]] = []
    for i, aid in enumerate(authorities, start=1):
        mine = to.filter(pl.col("authority_id") == aid)["file_number"].implode()
        part = model.requests(reqs.requests.filter(pl.col("message_id").is_in(mine)),
                              reqs.notices.filter(pl.col("message_id").is_in(mine)),
                              changes.filter(pl.col("creditor_file_number").is_in(mine)))
        row = who.filter(pl.col("authority_id") == aid)
        receiver = (model.Body(name=row["authority_name"][0], authority_id=aid, street=row["authority_street"][0],
                               postcode=row["authority_postcode"][0], city=row["authority_city"][0])
                    if row.height else model.Body(name=aid, authority_id=aid))
        mid = f"{tag}-A{day:%Y%m%d}-{run_id[-8:]}-{i:03d}"
        header = model.Header(message_id=mid, created=created,
                              sender=model.Body(name=me.name, authority_id=me.authority_id, street=me.street,
                                                postcode=me.postcode, city=me.city),
                              receiver=receiver)
        data = write_requests(header, part, file=name)
        target = folder / aid / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        files.append({"authority_id": aid, "file_name": name, "sha256": sha256_of(target), "message_id": mid,
                      "n_requests": part.requests.height, "n_recalls": part.changes.height,
                      "total_cents": int(part.notices.select(
                          pl.sum_horizontal("principal_cents", "surcharge_cents", "costs_cents").sum()).item() or 0)})
    return files


def stage(run: Any, files: list[dict[str, Any]], out_cases: pl.DataFrame, out_items: pl.DataFrame,
          settled_: pl.DataFrame, prepared_by: str, released_by: str) -> dict[str, int]:
    """Stage migration 13's rows: the requests, their claims, the events ``sent``, ``settled`` and
    ``recalled`` (``run.folder.book``)."""
    f, cfg, day = run.folder, run.cfg, run.run_date
    by_aid = {d["authority_id"]: d for d in files}
    meta = pl.DataFrame([{"authority_id": a, "file_message_id": d["message_id"], "file_name": d["file_name"],
                          "file_sha256": d["sha256"]} for a, d in by_aid.items()],
                        schema={"authority_id": pl.String(), "file_message_id": pl.String(), "file_name": pl.String(),
                                "file_sha256": pl.String()})
    me = us(cfg)
    reqs = requests(out_cases, out_items, me, day)
    sums = reqs.notices.group_by("message_id").agg(
        pl.len().alias("n_notices"), pl.col("principal_cents").sum(), pl.col("surcharge_cents").sum(),
        pl.col("costs_cents").sum())
    n_claims = out_items.group_by("case_number").agg(pl.len().alias("n_claims"))
    key = [pl.lit(cfg.tenant).alias("tenant"), pl.lit(run.run_id).alias("run_id")]
    rows = (out_cases.join(reqs.requests.select(pl.col("message_id").alias("case_number"), "payment_reference"),
                           on="case_number", how="left")
            .join(sums.rename({"message_id": "case_number"}), on="case_number", how="left")
            .join(n_claims, on="case_number", how="left").join(meta, on="authority_id", how="left")
            .with_columns(*key, pl.col("case_number").alias("file_number"), pl.col("case_number").alias("message_id"),
                          pl.lit(day).alias("request_date"),
                          pl.sum_horizontal("principal_cents", "surcharge_cents", "costs_cents").alias("total_cents"),
                          pl.lit(prepared_by).alias("prepared_by"), pl.lit(released_by).alias("released_by"))
            .select(list(AMTSHILFE_OUT_REQUESTS)))
    f.book("amtshilfe_out_requests", rows)
    f.book("amtshilfe_out_claims", out_items.with_columns(*key, pl.col("case_number").alias("file_number"))
           .select(list(AMTSHILFE_OUT_CLAIMS)))
    now = datetime.now(UTC)

    def events(frame: pl.DataFrame, kind: OutgoingEvent, state: OutgoingState | None, text: str) -> pl.DataFrame:
        return frame.join(meta, on="authority_id", how="left").select(
            *key, (pl.lit(f"{kind}:") + pl.col("file_number")).alias("event_id"), "file_number", "authority_id",
            pl.lit(str(kind)).alias("kind"), pl.lit(str(state) if state else None, pl.String).alias("state"),
            pl.lit(day).alias("event_date"), pl.lit(None, pl.Int64).alias("amount_cents"),
            pl.lit(None, pl.String).alias("reason"), pl.lit(text).alias("text"),
            (pl.lit("R-" if kind == OutgoingEvent.RECALLED else "") + pl.col("file_number")).alias("message_id"),
            "file_name", "file_sha256")

    sent = rows.select("file_number", "authority_id")
    evs = pl.concat([
        events(sent, OutgoingEvent.SENT, OutgoingState.SENT, "Amtshilfeersuchen versandt"),
        events(settled_.select("file_number", "authority_id"), OutgoingEvent.SETTLED, OutgoingState.SETTLED,
               "Alle Forderungen des Ersuchens sind ausgeglichen"),
        events(settled_.filter(pl.col("recall")).select("file_number", "authority_id"), OutgoingEvent.RECALLED, None,
               "Rücknahme versandt: der Schuldner hat unmittelbar an uns gezahlt"),
    ]).with_columns(pl.lit(now).alias("recorded_at"), pl.int_range(pl.len()).cast(pl.Int64).alias("position"))
    f.book("amtshilfe_out_events", evs.select(list(AMTSHILFE_OUT_EVENTS)))
    return {"out_requests": rows.height, "out_claims": out_items.height, "out_settled": settled_.height,
            "out_recalls": int(settled_["recall"].sum() or 0)}


def outbox_dir(cfg: TenantConfig) -> Path:
    """``<tenant folder>/outbox/amtshilfe_out``."""
    return cfg.tenant_dir / OUTBOX


def deliver_files(run: Any, files: list[dict[str, Any]], refused: Any) -> dict[str, str]:
    """Copy each authority's booked file into its outbox folder, then its manifest (``jobs.outbox.deliver``)."""
    paths: dict[str, str] = {}
    for d in files:
        aid = d["authority_id"]
        manifest = {"run_id": run.run_id, "tenant": run.cfg.tenant, "authority_id": aid,
                    "message_id": d["message_id"], "files": [{k: d[k] for k in ("file_name", "sha256")}],
                    "n_requests": d["n_requests"], "n_recalls": d["n_recalls"], "total_cents": d["total_cents"]}
        got = deliver(run.cfg, outbox_dir(run.cfg) / aid, run.folder.path / FINAL / aid,
                      [{"file_name": d["file_name"], "sha256": d["sha256"]}], manifest,
                      d["file_name"].removesuffix(".xml") + ".manifest.json", refused)
        paths.update({f"{aid}/{k}": v for k, v in got.items()})
    return paths


def summary(files: list[dict[str, Any]], out_cases: pl.DataFrame, held: pl.DataFrame,
            settled_: pl.DataFrame) -> dict[str, Any]:
    """The outgoing figures of a prepared or booked hand-off."""
    return {"n_out_requests": out_cases.height, "n_out_held": held["debtor_id"].n_unique() if held.height else 0,
            "n_out_settled": settled_.height, "n_out_recalls": int(settled_["recall"].sum() or 0),
            "out_total_cents": sum(d["total_cents"] for d in files),
            "out_files": [{k: d[k] for k in ("authority_id", "file_name", "sha256", "message_id")} for d in files]}


__all__ = ["FINAL", "INPUTS", "OUTBOX", "PREPARED", "deliver_files", "file_name", "for_reconcile", "read_out_inputs", "settlements",
           "split", "stage", "summary", "us", "without_open_requests", "write_files"]
