"""Volume and volatility per time window, from the StreamForge store.

The notebook volume_volatility.ipynb is a thin layer over this module, so
the arithmetic can be tested on its own (test_volvol.py). Everything here
takes its inputs as arguments; only ``Config.from_env`` reads the
environment.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd

CANDLE_MS = 5 * 60 * 1000
ALL_TIME = (-(2**62), 2**62)  # epoch-ms bounds when no TIME_RANGE is set
CANDLE_FIELDS = ("time", "open", "high", "low", "close", "volume", "quote_volume", "trades")


@dataclasses.dataclass(frozen=True)
class Config:
    """What the notebook reads and where it writes, from the environment."""

    symbol: str
    window: pd.Timedelta
    window_text: str  # as WINDOW gave it, for labels
    store_path: Path | None  # None when reading ArangoDB
    arango_url: str | None
    arango_db: str
    arango_user: str
    arango_password: str
    arango_ca_file: str | None
    out_dir: Path
    bootstrap: int
    seed: int
    # TIME_RANGE: one workflow's range, [from, to) in epoch ms, and as given;
    # None reads all of the symbol's documents in the latest collection.
    time_range: tuple[int, int] | None = None
    time_range_text: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, cwd: Path | None = None) -> "Config":
        """Reads STORE_PATH, SYMBOL, WINDOW, TIME_RANGE, ARANGO_*, NOTEBOOK_OUT, BOOTSTRAP, SEED.

        Raises ValueError naming the variable when one is malformed, and
        FileNotFoundError when no store file can be found.
        """
        env = dict(os.environ if env is None else env)
        cwd = Path.cwd() if cwd is None else cwd
        symbol = env.get("SYMBOL", "BTCUSDT").strip().upper()
        if not re.fullmatch(r"[A-Z0-9]{2,30}", symbol):
            raise ValueError(f"SYMBOL {symbol!r}: want letters and digits, like BTCUSDT")
        raw_window = env.get("WINDOW", "1h")
        try:
            window = pd.Timedelta(raw_window)
        except ValueError as e:
            raise ValueError(f"WINDOW {raw_window!r}: want a duration like 30min, 1h, 4h ({e})") from e
        wms = int(window / pd.Timedelta(milliseconds=1))
        if wms < 3 * CANDLE_MS or wms % CANDLE_MS:
            raise ValueError(f"WINDOW {raw_window!r}: want a multiple of 5min, at least 15min (3 candles)")
        arango_url = env.get("ARANGO_URL") or None
        store_path = None
        if arango_url is None:
            store_path = find_store(env.get("STORE_PATH"), cwd)
        out_dir = Path(env.get("NOTEBOOK_OUT") or (cwd / "out"))
        if not out_dir.is_absolute():
            out_dir = cwd / out_dir
        try:
            bootstrap = int(env.get("BOOTSTRAP", "2000"))
            seed = int(env.get("SEED", "7"))
        except ValueError as e:
            raise ValueError(f"BOOTSTRAP and SEED: want integers ({e})") from e
        if bootstrap < 200:
            raise ValueError(f"BOOTSTRAP {bootstrap}: want at least 200 resamples")
        time_range_text = env.get("TIME_RANGE") or None
        time_range = parse_time_range(time_range_text) if time_range_text else None
        return cls(
            symbol=symbol,
            window=window,
            window_text=raw_window,
            store_path=store_path,
            arango_url=arango_url,
            arango_db=env.get("ARANGO_DB", "streamforge"),
            arango_user=env.get("ARANGO_USER", "root"),
            arango_password=env.get("ARANGO_PASSWORD", ""),
            arango_ca_file=env.get("ARANGO_CA_FILE") or None,
            out_dir=out_dir,
            bootstrap=bootstrap,
            seed=seed,
            time_range=time_range,
            time_range_text=time_range_text,
        )

    @property
    def window_ms(self) -> int:
        return int(self.window / pd.Timedelta(milliseconds=1))

    def describe(self) -> str:
        """One line per setting, the password masked."""
        source = f"ArangoDB {self.arango_url} db={self.arango_db} user={self.arango_user} password=***" \
            if self.arango_url else f"SQLite {self.store_path}"
        return "\n".join([
            f"source     {source}",
            f"symbol     {self.symbol}",
            f"range      {self.time_range_text or 'all of the latest collection'}",
            f"window     {self.window_text} ({self.window_ms // CANDLE_MS} candles of 5m)",
            f"bootstrap  {self.bootstrap} resamples, seed {self.seed}",
            f"out        {self.out_dir}",
        ])


def find_store(store_path: str | None, cwd: Path) -> Path:
    """The SQLite file: STORE_PATH if set, else data/streamforge.db seen from the
    notebook's folder (../data) or from the repository root (data).

    Raises FileNotFoundError listing the places it looked.
    """
    if store_path:
        candidates = [Path(store_path) if Path(store_path).is_absolute() else cwd / store_path]
    else:
        candidates = [cwd / ".." / "data" / "streamforge.db", cwd / "data" / "streamforge.db"]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"no store file (tried {tried}): run `make demo` first, or set STORE_PATH")


def parse_time_range(text: str) -> tuple[int, int]:
    """TIME_RANGE as the services read it: YYYY-MM-DD:YYYY-MM-DD (end day
    exclusive) or two RFC 3339 instants start/end; [from, to) in epoch ms.

    Raises ValueError naming the variable when it is malformed or empty.
    """
    if "/" in text:
        parts = text.split("/", 1)
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}:\d{4}-\d{2}-\d{2}", text):
        parts = text.split(":", 1)
    else:
        raise ValueError(f"TIME_RANGE {text!r}: want YYYY-MM-DD:YYYY-MM-DD or <RFC 3339>/<RFC 3339>")
    try:
        start, end = (pd.Timestamp(p) for p in parts)
    except ValueError as e:
        raise ValueError(f"TIME_RANGE {text!r}: {e}") from e
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    if end <= start:
        raise ValueError(f"TIME_RANGE {text!r}: ends before it starts")
    return int(start.value // 1_000_000), int(end.value // 1_000_000)


def collection_of(symbol: str, kind: str, time_range: tuple[int, int]) -> str:
    """The collection a workflow over time_range stored the symbol's data in
    (protocol.CollectionName with protocol.DataDay): named after the first
    day of the data, e.g. btcusdt_api_candles_5m_2026_10_01."""
    typ = {"candles": "api_candles_5m", "trades": "api_trades"}[kind]
    day = pd.Timestamp(time_range[0], unit="ms", tz="UTC").strftime("%Y_%m_%d")
    return f"{symbol.lower()}_{typ}_{day}"


def collection_pattern(symbol: str, kind: str) -> re.Pattern[str]:
    """Names the collectors give a symbol's collections (protocol.CollectionName):
    <symbol>_api_candles_5m_<yyyy_mm_dd> and <symbol>_api_trades_<yyyy_mm_dd>."""
    typ = {"candles": "api_candles_5m", "trades": "api_trades"}[kind]
    return re.compile(rf"^{re.escape(symbol.lower())}_{typ}_\d{{4}}_\d{{2}}_\d{{2}}$")


def latest(names: list[str], symbol: str, kind: str) -> str | None:
    """The last by name (so the latest day) of the names of that kind, or None."""
    pat = collection_pattern(symbol, kind)
    matching = sorted(n for n in names if pat.match(n))
    return matching[-1] if matching else None


# ---- SQLite ---------------------------------------------------------------


def sqlite_connect(path: Path) -> sqlite3.Connection:
    """Opens the store read-only, so a typo cannot create an empty file and a
    running service keeps writing undisturbed."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def sqlite_collections(con: sqlite3.Connection) -> list[str]:
    """The document collections in the `_collections` catalogue."""
    return [r[0] for r in con.execute("SELECT name FROM _collections WHERE kind = 'document' ORDER BY name")]


def sqlite_candles(con: sqlite3.Connection, collection: str, symbol: str,
                   bounds: tuple[int, int] = ALL_TIME) -> pd.DataFrame:
    """The symbol's candles with from <= time < to, oldest first, the fields as float columns."""
    cols = ", ".join(f"json_extract(doc, '$.{f}') AS {f}" for f in CANDLE_FIELDS if f != "time")
    q = f'SELECT time, {cols} FROM "{collection}" WHERE symbol = ? AND time >= ? AND time < ? ORDER BY time, _key'
    return pd.read_sql_query(q, con, params=[symbol, *bounds])


def sqlite_trades_per_window(con: sqlite3.Connection, collection: str, symbol: str, window_ms: int,
                             bounds: tuple[int, int] = ALL_TIME) -> pd.DataFrame:
    """Aggregate trades summed per window inside SQLite (a month is millions of
    rows; only one row per window comes back): count, base qty, notional."""
    q = f"""SELECT (time / ?) * ? AS window_start, COUNT(*) AS agg_trades,
                   SUM(json_extract(doc, '$.qty')) AS trade_qty,
                   SUM(json_extract(doc, '$.qty') * json_extract(doc, '$.price')) AS trade_notional
            FROM "{collection}" WHERE symbol = ? AND time >= ? AND time < ? GROUP BY 1 ORDER BY 1"""
    return pd.read_sql_query(q, con, params=[window_ms, window_ms, symbol, *bounds])


# ---- ArangoDB (python-arango, imported only when ARANGO_URL is set) -------


def arango_db(cfg: Config):
    """The database handle; python-arango is imported here so the SQLite path
    needs no driver."""
    try:
        from arango import ArangoClient  # noqa: PLC0415 - optional dependency
    except ImportError as e:
        raise ImportError("ARANGO_URL is set but python-arango is missing: pip install python-arango") from e
    client = ArangoClient(hosts=cfg.arango_url, verify_override=cfg.arango_ca_file)
    return client.db(cfg.arango_db, username=cfg.arango_user, password=cfg.arango_password, verify=True)


def arango_collections(db) -> list[str]:
    return sorted(c["name"] for c in db.collections() if not c.get("system") and c.get("type") == "document")


def arango_candles(db, collection: str, symbol: str, bounds: tuple[int, int] = ALL_TIME) -> pd.DataFrame:
    fields = ", ".join(f"{f}: d.{f}" for f in CANDLE_FIELDS)
    q = (f"FOR d IN @@col FILTER d.symbol == @symbol AND d.time >= @from AND d.time < @to "
         f"SORT d.time, d._key RETURN {{{fields}}}")
    cur = db.aql.execute(q, bind_vars={"@col": collection, "symbol": symbol, "from": bounds[0], "to": bounds[1]},
                         batch_size=10000, stream=True)
    return pd.DataFrame(list(cur), columns=list(CANDLE_FIELDS))


def arango_trades_per_window(db, collection: str, symbol: str, window_ms: int,
                             bounds: tuple[int, int] = ALL_TIME) -> pd.DataFrame:
    q = """FOR d IN @@col FILTER d.symbol == @symbol AND d.time >= @from AND d.time < @to
             COLLECT w = FLOOR(d.time / @w) * @w
             AGGREGATE n = COUNT(1), qty = SUM(d.qty), notional = SUM(d.qty * d.price)
             SORT w
             RETURN {window_start: w, agg_trades: n, trade_qty: qty, trade_notional: notional}"""
    cur = db.aql.execute(q, bind_vars={"@col": collection, "symbol": symbol, "w": window_ms,
                                       "from": bounds[0], "to": bounds[1]}, stream=True)
    return pd.DataFrame(list(cur), columns=["window_start", "agg_trades", "trade_qty", "trade_notional"])


@dataclasses.dataclass
class Loaded:
    candles: pd.DataFrame
    trades: pd.DataFrame | None
    candle_collection: str
    trade_collection: str | None


def load(cfg: Config) -> Loaded:
    """Reads the symbol's candles and, when there are any, its trades summed per
    window, from SQLite or (ARANGO_URL) ArangoDB. With TIME_RANGE, exactly
    that range from the collections a workflow over it stored into (named
    after the data's first day; they may hold other workflows' ranges too);
    without, all of the symbol's documents in the latest collections.

    Raises LookupError when the store has no such candle collection.
    """
    bounds = cfg.time_range or ALL_TIME
    if cfg.arango_url:
        db = arango_db(cfg)
        names, candles_of, trades_of = arango_collections(db), \
            (lambda c: arango_candles(db, c, cfg.symbol, bounds)), \
            (lambda c: arango_trades_per_window(db, c, cfg.symbol, cfg.window_ms, bounds))
        where = f"ArangoDB {cfg.arango_url}/{cfg.arango_db}"
    else:
        con = sqlite_connect(cfg.store_path)
        names, candles_of, trades_of = sqlite_collections(con), \
            (lambda c: sqlite_candles(con, c, cfg.symbol, bounds)), \
            (lambda c: sqlite_trades_per_window(con, c, cfg.symbol, cfg.window_ms, bounds))
        where = str(cfg.store_path)
    if cfg.time_range:
        cc, tc = (collection_of(cfg.symbol, k, cfg.time_range) for k in ("candles", "trades"))
        if cc not in names:
            raise LookupError(f"{where}: no collection {cc} for TIME_RANGE {cfg.time_range_text} "
                              f"(collections: {', '.join(names) or 'none'})")
        tc = tc if tc in names else None
    else:
        cc = latest(names, cfg.symbol, "candles")
        if cc is None:
            raise LookupError(f"{where}: no {cfg.symbol.lower()}_api_candles_5m_* collection "
                              f"(collections: {', '.join(names) or 'none'})")
        tc = latest(names, cfg.symbol, "trades")
    return Loaded(candles=candles_of(cc), trades=trades_of(tc) if tc else None,
                  candle_collection=cc, trade_collection=tc)


# ---- per window -----------------------------------------------------------


def per_window(candles: pd.DataFrame, window_ms: int) -> pd.DataFrame:
    """Realised volatility, volume, notional and trades per window.

    A candle's return is log(close / previous close) when the previous
    candle is exactly 5 minutes older, else log(close / open), so a gap in
    the data does not turn into one huge return. RV is the square root of
    the sum of squared returns in the window. Only windows with all their
    candles are kept (column `complete` says which were), so a half-filled
    first or last window does not pass for a quiet one.
    """
    c = candles.sort_values("time").drop_duplicates("time").reset_index(drop=True)
    for f in CANDLE_FIELDS:
        c[f] = pd.to_numeric(c[f], errors="coerce")
    prev_close = c["close"].shift(1)
    contiguous = c["time"].diff() == CANDLE_MS
    base = prev_close.where(contiguous, c["open"])
    c["ret"] = np.log(c["close"] / base)
    c["window_start"] = (c["time"] // window_ms) * window_ms
    g = c.groupby("window_start")
    w = pd.DataFrame({
        "candles": g.size(),
        "rv": np.sqrt(g["ret"].apply(lambda r: float(np.square(r).sum()))),
        "volume": g["volume"].sum(),
        "notional": g["quote_volume"].sum(),
        "trades": g["trades"].sum(),
        "close": g["close"].last(),
    })
    w["complete"] = w["candles"] == window_ms // CANDLE_MS
    w.index = pd.to_datetime(w.index, unit="ms", utc=True)
    w.index.name = "window_start"
    return w


def analysable(w: pd.DataFrame) -> pd.DataFrame:
    """Complete windows with positive volume and RV, plus their logs."""
    a = w[w["complete"] & (w["volume"] > 0) & (w["rv"] > 0)].copy()
    a["log_volume"] = np.log(a["volume"])
    a["log_rv"] = np.log(a["rv"])
    return a


# ---- statistics (numpy only) ----------------------------------------------


def norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def t_quantile_975(dof: int) -> float:
    """Student t's 97.5% point by the Cornish-Fisher expansion around the
    normal's 1.959964 (good to 3 decimals from 5 degrees of freedom)."""
    z, v = 1.959963984540054, float(dof)
    return z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2) \
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x - x.mean(), y - y.mean()
    d = math.sqrt(float((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / d) if d > 0 else float("nan")


def ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank), as Spearman wants."""
    return pd.Series(x).rank(method="average").to_numpy()


def fisher_ci(r: float, n: int) -> tuple[float, float, float]:
    """95% CI for Pearson's r by Fisher's z, and the two-sided p-value of r = 0.
    Both assume independent pairs."""
    z, se = math.atanh(max(min(r, 0.999999), -0.999999)), 1.0 / math.sqrt(n - 3)
    p = 2.0 * (1.0 - norm_cdf(abs(z) / se))
    return math.tanh(z - 1.959964 * se), math.tanh(z + 1.959964 * se), p


def ols(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """y = a + b x by least squares, b's standard error and 95% CI (t, n-2)."""
    n = len(x)
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    b = float(((x - xm) * (y - ym)).sum() / sxx)
    a = float(ym - b * xm)
    resid = y - (a + b * x)
    se = math.sqrt(float((resid**2).sum()) / (n - 2) / sxx)
    t = t_quantile_975(n - 2)
    r2 = 1.0 - float((resid**2).sum()) / float(((y - ym) ** 2).sum())
    return {"intercept": a, "slope": b, "slope_se": se, "slope_lo": b - t * se, "slope_hi": b + t * se, "r2": r2}


def permutation_p(x: np.ndarray, y: np.ndarray, stat, n: int, rng: np.random.Generator) -> float:
    """Two-sided p-value of |stat| under random pairings of x with y (the +1s
    keep it from being 0)."""
    obs = abs(stat(x, y))
    hits = sum(abs(stat(x, rng.permutation(y))) >= obs for _ in range(n))
    return (hits + 1) / (n + 1)


def block_length(n: int, window: pd.Timedelta) -> int:
    """A day of windows (the intraday cycle is the longest dependence we
    expect), but at least n^(1/3) and at most n/4."""
    per_day = max(1, int(pd.Timedelta(days=1) / window))
    return int(max(2, min(max(per_day, round(n ** (1 / 3))), n // 4)))


def moving_block_bootstrap(x: np.ndarray, y: np.ndarray, stats: dict, n_boot: int, block: int,
                           rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each stat on n_boot resamples built from random runs of `block`
    consecutive (x, y) pairs (Kunsch's moving-block bootstrap), so the
    dependence between neighbouring windows survives inside each block."""
    n = len(x)
    k = math.ceil(n / block)
    starts = rng.integers(0, n - block + 1, size=(n_boot, k))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(n_boot, -1)[:, :n]
    out = {name: np.empty(n_boot) for name in stats}
    for i in range(n_boot):
        xs, ys = x[idx[i]], y[idx[i]]
        for name, f in stats.items():
            out[name][i] = f(xs, ys)
    return out


def boot_summary(draws: np.ndarray, observed: float) -> dict[str, float]:
    """Percentile 95% CI, and the p-value of 0 by inverting it: twice the
    smaller share of resamples on either side of 0."""
    d = draws[np.isfinite(draws)]
    lo, hi = np.quantile(d, [0.025, 0.975])
    p = min(1.0, 2.0 * min((d <= 0).mean(), (d >= 0).mean()))
    floor = 1.0 / len(d)
    return {"estimate": observed, "lo": float(lo), "hi": float(hi), "p": max(float(p), floor), "p_floor": floor,
            "se": float(d.std())}


def deseasonalise(a: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """The columns less their mean at the same time of day, which takes out
    the intraday cycle that volume and volatility share."""
    tod = a.index.hour * 60 + a.index.minute
    return a[cols] - a[cols].groupby(tod).transform("mean")


def fmt_p(b: dict) -> str:
    """'p = 0.0123', or 'p < 0.0005' when no resample fell on the other side of 0."""
    return f"p < {b['p_floor']:.2g}" if b["p"] <= b["p_floor"] else f"p = {b['p']:.4f}"


def strength(r: float) -> str:
    r = abs(r)
    return "negligible" if r < 0.1 else "weak" if r < 0.3 else "moderate" if r < 0.5 else "strong"


def analyse(a: pd.DataFrame, window: pd.Timedelta, n_boot: int, seed: int) -> dict:
    """All the numbers the notebook reports, for log volume (x) and log RV (y)."""
    rng = np.random.default_rng(seed)
    x, y = a["log_volume"].to_numpy(), a["log_rv"].to_numpy()
    n = len(x)
    r = pearson(x, y)
    rho = pearson(ranks(x), ranks(y))
    fz_lo, fz_hi, fz_p = fisher_ci(r, n)
    fit = ols(x, y)
    block = block_length(n, window)
    draws = moving_block_bootstrap(
        x, y, {"r": pearson, "rho": lambda u, v: pearson(ranks(u), ranks(v)),
               "slope": lambda u, v: ols(u, v)["slope"]}, n_boot, block, rng)
    res = {
        "n": n, "pearson_r": r, "fisher_lo": fz_lo, "fisher_hi": fz_hi, "fisher_p": fz_p,
        "spearman_rho": rho,
        "perm_p_pearson": permutation_p(x, y, pearson, n_boot, rng),
        "block": block,
        "boot_r": boot_summary(draws["r"], r),
        "boot_rho": boot_summary(draws["rho"], rho),
        "boot_slope": boot_summary(draws["slope"], fit["slope"]),
        "ols": fit,
    }
    if window < pd.Timedelta(days=1):
        d = deseasonalise(a, ["log_volume", "log_rv"])
        dx, dy = d["log_volume"].to_numpy(), d["log_rv"].to_numpy()
        rd = pearson(dx, dy)
        bd = moving_block_bootstrap(dx, dy, {"r": pearson}, n_boot, block, rng)
        res["deseasonalised_r"] = boot_summary(bd["r"], rd)
    return res


def verdict(res: dict) -> str:
    """The conclusion, in words, from the block-bootstrap CI of Pearson's r
    (the test that allows for autocorrelation)."""
    b = res["boot_r"]
    r, lo, hi = b["estimate"], b["lo"], b["hi"]
    ci = f"r = {r:.3f}, 95% block-bootstrap CI [{lo:.3f}, {hi:.3f}], {fmt_p(b)}, n = {res['n']} windows"
    if lo > 0 or hi < 0:
        sign = "positive" if r > 0 else "negative"
        text = (f"Supported at the 5% level: log volume and log realised volatility are {sign}ly correlated, "
                f"and the correlation is {strength(r)} ({ci}).")
    else:
        text = f"Not supported at the 5% level: the 95% CI of the correlation includes 0 ({ci})."
    f = res["ols"]
    text += (f" In the regression, doubling the volume goes with {100 * (2 ** f['slope'] - 1):+.0f}% volatility "
             f"(elasticity {f['slope']:.3f}, R^2 {f['r2']:.3f}).")
    d = res.get("deseasonalised_r")
    if d is not None:
        holds = d["lo"] > 0 or d["hi"] < 0
        text += (f" With the intraday cycle taken out of both series, r = {d['estimate']:.3f} "
                 f"[{d['lo']:.3f}, {d['hi']:.3f}]: the link {'holds beyond' if holds else 'is not distinguishable from'} "
                 f"the shared time-of-day pattern.")
    return text


def cross_check(w: pd.DataFrame, trades: pd.DataFrame | None) -> pd.DataFrame | None:
    """The candle totals beside the aggregate trades summed per window, for the
    windows both cover, with the ratios candle / trades (1 when the two
    collections describe the same market)."""
    if trades is None or trades.empty:
        return None
    t = trades.copy()
    t.index = pd.to_datetime(t.pop("window_start"), unit="ms", utc=True)
    m = w[w["complete"]].join(t, how="inner")
    m["volume_ratio"] = m["volume"] / m["trade_qty"]
    m["notional_ratio"] = m["notional"] / m["trade_notional"]
    m["trades_per_agg_trade"] = m["trades"] / m["agg_trades"]
    return m
