"""``helpdesk bench``: accuracy benchmarks on public data sets, through the project's own
training and search code. Each run writes ``benchmarks/results/<name>.json``.

The data sets are read from ``HELPDESK_DATASETS_DIR`` (default ``../shared/datasets``); their
embeddings are cached under ``benchmarks/.cache`` so reruns encode nothing.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.boundary import CommandGroup

app = typer.Typer(
    help="Benchmarks on public data sets (results in benchmarks/results).",
    no_args_is_help=True,
    cls=CommandGroup,
)


class IntentDataset(StrEnum):
    banking77 = "banking77"
    clinc150 = "clinc150"


class RetrievalDataset(StrEnum):
    stackfaq = "stackfaq"
    covidfaq = "covidfaq"
    bundled = "bundled"


class Mode(StrEnum):
    dense = "dense"
    lexical = "lexical"
    hybrid = "hybrid"
    all = "all"


JsonOption = Annotated[bool, typer.Option("--json", help="print the whole result as JSON")]
BackgroundOption = Annotated[
    bool | None,
    typer.Option(
        "--background/--no-background",
        help="with no out-of-scope data: train with (or without) the shipped off-topic "
        "messages instead of the default (results get a -background / -no-background name)",
    ),
]
ScratchDatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="a scratch database (default: a new SQLite file in a temporary folder)",
    ),
]
PipelineDataOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        file_okay=False,
        help="where the built intent model, index and encoder export are kept between runs "
        "(default benchmarks/.cache/pipeline-data)",
    ),
]


def _datasets_dir(*needed: str) -> Path:
    """The data sets' folder, once it is known to hold the ``needed`` ones."""
    from bot.config import Settings
    from bot.errors import ConfigError

    root = Settings().datasets_dir
    missing = [name for name in needed if not (root / name).is_dir()]
    if missing:
        raise ConfigError(
            f"HELPDESK_DATASETS_DIR: {root} has no {', '.join(f'{m}/' for m in missing)} "
            "data set; point HELPDESK_DATASETS_DIR at the folder holding them "
            "(docs/benchmarks.md says where to get each one)"
        )
    return root


def _embedder() -> Any:
    from nlu.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


def _finish(document: dict[str, Any], as_json: bool) -> None:
    from benchmarks.report import write_result

    path = write_result(document["name"], document)
    if as_json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{document['dataset']}")
    for row in document["metrics"]:
        typer.echo(f"  {row['split']:40} {row['metric']:28} {row['value']:.4f}  (n={row['n']})")
    for key in ("training_seconds", "retrain_seconds", "model_bytes"):
        if key in document:
            typer.echo(f"  {key:69} {document[key]}")
    typer.echo(f"-> {path}")


def _say_chosen_and_shipped(document: dict[str, Any]) -> None:
    """A sweep's choice beside the value shipped today, and the rule that chose it."""
    typer.echo(
        f"  chosen: {document['chosen']} (shipped: {document['shipped']}; {document['rule']})"
    )


@app.command("intents")
def intents(
    dataset: Annotated[IntentDataset, typer.Option("--dataset", help="which data set")],
    shots: Annotated[
        int | None, typer.Option("--shots", min=1, help="train on N examples per intent")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the --shots sample")] = 0,
    seeds: Annotated[
        int,
        typer.Option("--seeds", min=1, help="with --shots: N samples (seed, seed+1, …), mean ± sd"),
    ] = 1,
    dev: Annotated[
        bool,
        typer.Option(
            "--dev", help="banking77: train without a seeded 10 %% dev split of train, score it"
        ),
    ] = False,
    cold: Annotated[
        bool, typer.Option("--cold", help="train from an empty embedding cache (times encoding)")
    ] = False,
    no_oos_data: Annotated[
        bool,
        typer.Option(
            "--no-oos-data",
            help="clinc150: use no out-of-scope data at all (the floor the defaults calibrate)",
        ),
    ] = False,
    background: BackgroundOption = None,
    as_json: JsonOption = False,
) -> None:
    """Intent accuracy: train through `nlu.train` on the data set's training split, score its
    test split (CLINC150: out-of-scope threshold tuned on the validation split, or with
    --no-oos-data the defaults' own floor)."""
    from benchmarks.intents import run_banking77, run_clinc150, run_clinc150_no_oos

    if dataset is IntentDataset.banking77 and no_oos_data:
        raise typer.BadParameter(
            "--no-oos-data applies to clinc150 (banking77 has none: see `bench oos-proxy`)",
            param_hint="--no-oos-data",
        )
    if dataset is IntentDataset.clinc150 and (shots or dev):
        option = "--shots" if shots else "--dev"
        raise typer.BadParameter(f"{option} applies to banking77 only", param_hint=option)
    if background is not None and not no_oos_data:
        raise typer.BadParameter("goes with --no-oos-data", param_hint="--background")
    if seeds > 1 and not shots:
        raise typer.BadParameter("--seeds goes with --shots", param_hint="--seeds")
    root = _datasets_dir(dataset.value)
    if dataset is IntentDataset.banking77:
        document = run_banking77(
            root, _embedder(), shots=shots, seed=seed, seeds=seeds, dev=dev, cold=cold
        )
    elif no_oos_data:
        document = run_clinc150_no_oos(root, _embedder(), cold=cold, background=background)
    else:
        document = run_clinc150(root, _embedder(), cold=cold)
    _finish(document, as_json)


@app.command("oos-proxy")
def oos_proxy(background: BackgroundOption = None, as_json: JsonOption = False) -> None:
    """Out-of-scope without out-of-scope data: train BANKING77 with the defaults, score its test
    split and the share of CLINC150's off-topic `oos_test` queries it rejects."""
    from benchmarks.intents import run_oos_proxy

    root = _datasets_dir("banking77", "clinc150")
    _finish(run_oos_proxy(root, _embedder(), background=background), as_json)


@app.command("retrieval")
def retrieval(
    dataset: Annotated[RetrievalDataset, typer.Option("--dataset", help="which data set")],
    mode: Annotated[Mode, typer.Option("--mode", help="search mode to score")] = Mode.all,
    articles: Annotated[
        Path | None,
        typer.Option(
            "--articles",
            exists=True,
            file_okay=False,
            help="bundled: score these articles instead (a directory)",
        ),
    ] = None,
    queries: Annotated[
        Path | None,
        typer.Option(
            "--queries",
            exists=True,
            dir_okay=False,
            help="bundled: labelled messages (YAML, like the bundled set)",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Knowledge retrieval: index the articles (FAQ entries become articles), score Recall@1/5/10
    and MRR@10 per mode. The hybrid mode fuses as the bot does (SEARCH_LEXICAL_WEIGHT)."""
    from benchmarks.retrieval import BUNDLED_ARTICLES, BUNDLED_QUERIES, MODES, run_retrieval
    from bot.config import Settings
    from bot.knowledge.search import configured_fusion

    own = articles is not None or queries is not None
    if own and dataset is not RetrievalDataset.bundled:
        raise typer.BadParameter("--articles and --queries go with --dataset bundled")
    modes = MODES if mode is Mode.all else (mode.value,)
    document = run_retrieval(
        dataset.value,
        # the bundled set borrows CLINC150's off-topic queries for its answer threshold
        _datasets_dir("clinc150" if dataset is RetrievalDataset.bundled else dataset.value),
        _embedder(),
        modes,  # type: ignore[arg-type]
        fusion=configured_fusion(Settings()),
        articles=articles or BUNDLED_ARTICLES,
        queries_file=queries or BUNDLED_QUERIES,
    )
    if own:  # never overwrite the bundled result with someone's own set
        document["name"] = f"kb-{(queries or BUNDLED_QUERIES).stem}"
    _finish(document, as_json)


@app.command("floors")
def floors(as_json: JsonOption = False) -> None:
    """What each fixed out-of-scope floor does on the bundled intents: held-out and 5-fold
    accuracy, and seeded CLINC150 oos_test queries caught (a report on test data; the default
    is chosen by `bench sweep fixed-floor`)."""
    from benchmarks.floors import run_floors

    _finish(run_floors(_datasets_dir("clinc150"), _embedder()), as_json)


@app.command("gaps")
def gaps(as_json: JsonOption = False) -> None:
    """Knowledge-gap clustering: adjusted Rand index and purity on the seeded gap questions
    (the cut distance chosen on their dev half, reported on the test half), and on seeded
    CLINC150 queries when that data set is present."""
    from benchmarks.gaps import run_gaps
    from bot.config import Settings

    root = Settings().datasets_dir
    document = run_gaps(_embedder(), root if (root / "clinc150").is_dir() else None)
    _finish(document, as_json)
    if not as_json:
        typer.echo(
            f"  distance {document['product_distance']} "
            f"(chosen on the dev half: {document['chosen_on_dev']})"
        )
        for split, intervals in document["intervals_95"].items():
            typer.echo(f"  {split:40} 95% intervals {intervals}")


sweep_app = typer.Typer(
    help="The sweeps behind the defaults, rerun on training or dev data only (never a test split).",
    no_args_is_help=True,
    cls=CommandGroup,
)
app.add_typer(sweep_app, name="sweep")


@sweep_app.command("keep-in-scope")
def sweep_keep_in_scope(
    folds: Annotated[
        int, typer.Option("--folds", min=1, max=5, help="run the first N of the 5 intent folds")
    ] = 5,
    as_json: JsonOption = False,
) -> None:
    """The share of held-out on-topic scores the calibrated floor keeps: CLINC150 train with
    left-out intents as off-topic messages, and the BANKING77 dev split."""
    from benchmarks.sweeps import run_keep_sweep

    document = run_keep_sweep(_datasets_dir("banking77", "clinc150"), _embedder(), folds)
    _finish(document, as_json)
    typer.echo(f"  chosen: keep_in_scope {document['chosen']} ({document['rule']})")


@sweep_app.command("background")
def sweep_background(
    folds: Annotated[
        int, typer.Option("--folds", min=1, max=5, help="run the first N of the 5 intent folds")
    ] = 1,
    as_json: JsonOption = False,
) -> None:
    """Whether to train with the shipped off-topic messages as a background class when the data
    has no out_of_scope examples, and the share the floor keeps with it: CLINC150 train with
    left-out intents, the BANKING77 dev split, and a held-out half of the messages."""
    from benchmarks.sweeps import run_background_sweep

    document = run_background_sweep(_datasets_dir("banking77", "clinc150"), _embedder(), folds)
    _finish(document, as_json)
    typer.echo(
        f"  chosen: keep_in_scope {document['chosen']} with the background ({document['rule']})"
    )
    typer.echo(f"  use the background: {document['use_background']}")


@sweep_app.command("scope")
def sweep_scope(
    folds: Annotated[
        int, typer.Option("--folds", min=1, max=5, help="run the first N of the 5 intent folds")
    ] = 5,
    as_json: JsonOption = False,
) -> None:
    """The in-scope score's neighbourhood term (scope_weight × the mean cosine to the scope_k
    nearest examples): ROC AUC of on-topic vs left-out-intent messages on CLINC150 train."""
    from benchmarks.scope_sweep import run_scope_sweep

    document = run_scope_sweep(_datasets_dir("clinc150"), _embedder(), folds)
    _finish(document, as_json)
    _say_chosen_and_shipped(document)


FoldsOption = Annotated[
    int,
    typer.Option("--folds", min=2, max=10, help="folds of the bundled data's cross-validation"),
]


def _head_sweep(name: str, folds: int, as_json: bool) -> None:
    from benchmarks.head_sweeps import run

    document = run(name, _datasets_dir("banking77"), _embedder(), folds=folds)
    _finish(document, as_json)
    _say_chosen_and_shipped(document)


@sweep_app.command("word-weight")
def sweep_word_weight(folds: FoldsOption = 5, as_json: JsonOption = False) -> None:
    """The scale of the word features beside the embedding: closed-set accuracy on the BANKING77
    dev split and the bundled training data's cross-validation (never a test split)."""
    _head_sweep("word-weight", folds, as_json)


@sweep_app.command("c")
def sweep_c(folds: FoldsOption = 5, as_json: JsonOption = False) -> None:
    """The logistic regression's C: closed-set accuracy on the BANKING77 dev split and the
    bundled training data's cross-validation (never a test split)."""
    _head_sweep("c", folds, as_json)


@sweep_app.command("vote")
def sweep_vote(folds: FoldsOption = 5, as_json: JsonOption = False) -> None:
    """The neighbour vote's k and temperature (its weight is chosen per data set at training
    time): closed-set accuracy on the BANKING77 dev split and the bundled training data's
    cross-validation (never a test split)."""
    _head_sweep("vote", folds, as_json)


@sweep_app.command("fixed-floor")
def sweep_fixed_floor(folds: FoldsOption = 5, as_json: JsonOption = False) -> None:
    """The floor of data with out_of_scope examples (the bundled data's): cross-validation of
    the bundled training data, with the shipped off-topic messages as unseen off-topic input.
    Reads no public data set."""
    from benchmarks.floor_sweep import run_floor_sweep

    document = run_floor_sweep(_embedder(), folds=folds)
    _finish(document, as_json)
    typer.echo(
        f"  chosen: floor {document['chosen']} (shipped: {document['shipped']}; {document['rule']})"
    )


@sweep_app.command("mean-weight")
def sweep_mean_weight(as_json: JsonOption = False) -> None:
    """The knowledge search's mean term (λ × the mean cosine of an article's entries), on
    StackFAQ's group-0 queries and a seeded half of CovidFAQ's."""
    from benchmarks.retrieval_sweep import run_mean_weight_sweep

    document = run_mean_weight_sweep(_datasets_dir("stackfaq", "covidfaq"), _embedder())
    _finish(document, as_json)
    typer.echo(f"  chosen: mean_weight {document['chosen']} ({document['rule']})")


@sweep_app.command("answer-threshold")
def sweep_answer_threshold(as_json: JsonOption = False) -> None:
    """The knowledge hit score from which the bot answers with an article: the bundled articles'
    own example questions, held out in 5 folds, and the shipped off-topic messages. Reads no
    public data set and not the labelled messages the retrieval benchmark reports."""
    from benchmarks.answer_threshold_sweep import run_answer_threshold_sweep

    document = run_answer_threshold_sweep(_embedder())
    _finish(document, as_json)
    typer.echo(
        f"  chosen: answer_threshold {document['chosen']:.2f} "
        f"(shipped: {document['shipped']:.2f}; {document['rule']})"
    )


@sweep_app.command("lexical-pool")
def sweep_lexical_pool(as_json: JsonOption = False) -> None:
    """How many of BM25's best rows the knowledge search fuses, on StackFAQ's group-0 queries
    and a seeded half of CovidFAQ's: the smallest pool that changes no dev query's hits."""
    from benchmarks.retrieval_sweep import run_lexical_pool_sweep

    document = run_lexical_pool_sweep(_datasets_dir("stackfaq", "covidfaq"), _embedder())
    _finish(document, as_json)
    typer.echo(f"  chosen: lexical_pool {document['chosen']} ({document['rule']})")


@sweep_app.command("fusion")
def sweep_fusion(as_json: JsonOption = False) -> None:
    """The knowledge search's fusion: the reciprocal-rank k and the BM25 ranking's weight beside
    the dense one, on StackFAQ's group-0 queries and a seeded half of CovidFAQ's."""
    from benchmarks.retrieval_sweep import run_fusion_sweep

    document = run_fusion_sweep(_datasets_dir("stackfaq", "covidfaq"), _embedder())
    _finish(document, as_json)
    _say_chosen_and_shipped(document)


@app.command("pipeline")
def pipeline(
    database_url: ScratchDatabaseOption = None,
    customers: Annotated[
        int, typer.Option("--customers", min=1, help="saturation: new customers asking at once")
    ] = 400,
    rate: Annotated[
        float, typer.Option("--rate", min=0.1, help="latency: messages per second offered")
    ] = 50.0,
    rate_messages: Annotated[
        int, typer.Option("--rate-messages", min=1, help="latency: how many messages at --rate")
    ] = 500,
    data_dir: PipelineDataOption = None,
    as_json: JsonOption = False,
) -> None:
    """The whole pipeline beside its limit, in one run: the raw encoder at batch 1 and 32,
    messages/s with --customers asking at once and its ratio to the encoder's batched rate,
    p50/p95/p99 at --rate, database statements, transactions and time per message, peak
    memory. Real encoder (HELPDESK_ENCODER), intent model and bundled articles; customers on
    a stand-in platform."""
    import asyncio

    from benchmarks.pipeline import run_pipeline
    from benchmarks.report import RESULTS_DIR, result_document

    root = data_dir or RESULTS_DIR.parent / ".cache" / "pipeline-data"
    figures = asyncio.run(
        run_pipeline(
            database_url=database_url,
            data_dir=root,
            customers=customers,
            rate=rate,
            rate_messages=rate_messages,
            progress=lambda line: typer.echo(f"· {line}", err=True),
        )
    )
    document = result_document(
        figures.pop("name"), "bundled sample: data/articles, bundled-kb-queries.yml", [], **figures
    )
    path = _keep(document, database_url)
    if as_json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    _print_pipeline(document)
    typer.echo(f"-> {path}")


@app.command("kb-scale")
def kb_scale(
    encoded_articles: Annotated[
        int, typer.Option("--encoded-articles", min=10, help="articles imported and encoded")
    ] = 1_000,
    articles: Annotated[
        list[int] | None,
        typer.Option("--articles", min=10, help="bigger sizes, vectors composed (repeatable)"),
    ] = None,
    flat_below: Annotated[
        int | None,
        typer.Option(
            "--flat-below", min=1, help="the index type threshold (default: the product's)"
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Knowledge bases of real size, generated from StackFAQ and CovidFAQ: import time, index
    size, search p50/p99 and recall@10 against exact search, flat and HNSW."""
    from benchmarks.kb_scale import run_kb_scale, summary
    from benchmarks.report import result_document, write_result
    from bot.config import Settings
    from bot.knowledge.index import FLAT_BELOW
    from nlu.encoder_choice import select_embedder

    settings = Settings()
    root = _datasets_dir("stackfaq", "covidfaq")
    embedder = select_embedder(settings.encoder_dir, settings.encoder)
    figures = run_kb_scale(
        datasets=root,
        embedder=embedder,
        encoded_articles=encoded_articles,
        article_counts=articles if articles is not None else [10_000, 100_000],
        flat_below=flat_below or FLAT_BELOW,
        progress=lambda line: typer.echo(f"· {line}", err=True),
        checkpoint=lambda partial: write_result(
            "kb-scale", result_document("kb-scale", "partial run", [], **partial)
        ),
    )
    document = result_document(
        "kb-scale",
        "generated from StackFAQ (corpus_qa) + CovidFAQ",
        [],
        **figures,
    )
    path = write_result(document["name"], document)
    if as_json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    for line in summary(document):
        typer.echo(line)
    typer.echo(f"-> {path}")


@app.command("int8")
def int8(as_json: JsonOption = False) -> None:
    """The int8 ONNX encoder against the float one: speed, drift, bundled intents, StackFAQ."""
    from benchmarks.int8 import run_int8
    from benchmarks.report import result_document, write_result
    from bot.config import Settings
    from nlu.encoder_choice import select_embedder

    settings = Settings()
    root = _datasets_dir("stackfaq")
    select_embedder(settings.encoder_dir, "onnx")  # makes the float export if it is missing
    figures = run_int8(
        float_dir=settings.encoder_dir,
        nlu_sources=settings.nlu_sources,
        datasets=root,
        progress=lambda line: typer.echo(f"· {line}", err=True),
    )
    document = result_document(
        figures.pop("name"), "bundled test file; StackFAQ (all queries)", [], **figures
    )
    path = write_result(document["name"], document)
    if as_json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    typer.echo(json.dumps({k: document[k] for k in figures}, indent=1))
    typer.echo(f"-> {path}")


@app.command("roundtrips")
def roundtrips(
    database_url: ScratchDatabaseOption = None,
    data_dir: PipelineDataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Database statements and transactions per customer message, by kind (greeting, answer,
    handoff, a returning customer's answer): handling and delivery, real models."""
    import asyncio

    from benchmarks.report import RESULTS_DIR, result_document
    from benchmarks.roundtrips import run_roundtrips

    root = data_dir or RESULTS_DIR.parent / ".cache" / "pipeline-data"
    figures = asyncio.run(run_roundtrips(database_url=database_url, data_dir=root))
    document = result_document(figures.pop("name"), "bundled sample: data/articles", [], **figures)
    path = _keep(document, database_url)
    if as_json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    typer.echo(f"round trips per message on {document['database']} (statements / transactions)")
    for row in document["kinds"]:
        parts = "  ".join(
            f"{part} {row[part]['statements']} / {row[part]['transactions']}"
            for part in ("handling", "delivery", "total")
        )
        typer.echo(f"  {row['kind']:<28} {parts}")
    typer.echo(f"-> {path}")


def _print_pipeline(document: dict[str, Any]) -> None:
    encoder, saturated, offered = (
        document["encoder"],
        document["saturation"],
        document["offered_rate"],
    )
    typer.echo(f"pipeline on {document['database']}, encoder {encoder['encoder']}")
    typer.echo(
        f"  encoder        batch 1: {encoder['batch_1_texts_per_s']} texts/s "
        f"(p50 {encoder['batch_1_ms_p50']} ms) · batch 32: {encoder['batch_32_texts_per_s']}"
        f" texts/s (the limit), CPU {encoder['batch_32_cpu_ms_per_text']} ms per text"
    )
    for label, phase in (("saturation", saturated), ("offered rate", offered)):
        latency = " ".join(f"{k} {v} ms" for k, v in phase["latency_ms"].items())
        typer.echo(
            f"  {label:14} {phase['answered']}/{phase['messages']} answered · {latency} · "
            f"db {phase['db_statements_per_message']} statements, "
            f"{phase['db_transactions_per_message']} transactions, "
            f"{phase['db_ms_per_message']} ms per message · CPU {phase['cpu_ms_per_message']} "
            f"ms per message, {phase['loop_cpu_ms_per_message']} ms of it on the event loop"
        )
    typer.echo(
        f"  throughput     {saturated['messages_per_s']} messages/s at saturation = "
        f"{saturated['ratio_to_encoder_limit']} of the encoder's batched rate"
    )
    once = document["exactly_once"]
    typer.echo(
        f"  exactly once   {once['handled_first_attempt']}/{once['inbound']} inbounds handled on "
        f"the first attempt · {once['delivered']} deliveries of {once['outbox_rows']} outbox rows"
    )
    typer.echo(f"  peak memory    {document['peak_rss_mb']} MB")


@app.command("widget")
def widget(
    sessions: Annotated[
        int, typer.Option("--sessions", min=1, help="web chat visitors connected at once")
    ] = 200,
    messages: Annotated[
        int, typer.Option("--messages", min=1, help="questions each visitor asks in turn")
    ] = 2,
    database_url: ScratchDatabaseOption = None,
    data_dir: PipelineDataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Web chat visitors at once over WebSockets against one `helpdesk run --role web`
    process (real model, bundled articles): answer latency percentiles, answers/s, and every
    session's log replayed to count lost and duplicated messages (both must be 0)."""
    import asyncio

    from benchmarks.report import RESULTS_DIR, result_document
    from benchmarks.widget_load import run_widget_load

    root = data_dir or RESULTS_DIR.parent / ".cache" / "pipeline-data"
    figures = asyncio.run(
        run_widget_load(
            sessions=sessions,
            messages=messages,
            database_url=database_url,
            data_dir=root,
            progress=lambda line: typer.echo(f"· {line}", err=True),
        )
    )
    document = result_document(
        figures.pop("name"), "bundled sample: bundled-kb-queries.yml", [], **figures
    )
    path = _keep(document, database_url)
    if as_json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    typer.echo(
        f"widget load on {document['database']}: {document['answered']}/"
        f"{document['questions']} answered by {document['sessions']} sessions in "
        f"{document['seconds']} s ({document['answers_per_s']} answers/s); late "
        f"{document['late']}, lost {document['lost']}, duplicated {document['duplicated']}"
    )
    answer = " ".join(f"{k} {v} ms" for k, v in document["answer_ms"].items())
    connect = " ".join(f"{k} {v} ms" for k, v in document["connect_ms"].items())
    typer.echo(f"  answer   {answer}\n  connect  {connect}")
    typer.echo(
        f"  load average before {document['load_average_before']} after "
        f"{document['load_average_after']}"
    )
    typer.echo(f"-> {path}")


def _keep(document: dict[str, Any], database_url: str | None) -> Path:
    """Write a run's result under benchmarks/results; the command kept with it never shows
    the database's password."""
    from benchmarks.report import write_result

    if database_url:
        from sqlalchemy.engine import make_url

        shown = make_url(database_url).render_as_string(hide_password=True)
        document["command"] = document["command"].replace(database_url, shown)
    return write_result(document["name"], document)
