"""Tests of volvol.py: python -m unittest discover -s notebooks (in the
notebook venv; platform/scripts/notebook.sh runs them before the notebook)."""

from __future__ import annotations

import json
import math
import sqlite3
import tempfile
import unittest
from pathlib import Path

import numpy as np
import pandas as pd

import volvol

T0 = 1790812800000  # 2026-10-01T00:00:00Z


def synthetic_candles(hours: int, coupling: float, seed: int) -> pd.DataFrame:
    """5m candles whose per-hour volatility is exp(coupling * log volume + noise)."""
    rng = np.random.default_rng(seed)
    rows, price = [], 50000.0
    for h in range(hours):
        lv = rng.normal(1.0, 0.5)
        sigma = 0.002 * math.exp(coupling * (lv - 1.0) + rng.normal(0, 0.1))
        for k in range(12):
            o = price
            price = o * math.exp(rng.normal(0, sigma))
            vol = math.exp(lv) / 12 * rng.uniform(0.8, 1.2)
            rows.append({"time": T0 + (h * 12 + k) * volvol.CANDLE_MS, "open": o, "high": max(o, price) * 1.0001,
                         "low": min(o, price) * 0.9999, "close": price, "volume": vol,
                         "quote_volume": vol * price, "trades": 10})
    return pd.DataFrame(rows)


def write_store(path: Path, candles: pd.DataFrame, day: str = "2026_11_26") -> None:
    """A store laid out as libs/store/README.md "Schema" says."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE _collections (name TEXT PRIMARY KEY, kind TEXT NOT NULL)")
    cc, tc = f"btcusdt_api_candles_5m_{day}", f"btcusdt_api_trades_{day}"
    for name in (cc, tc, "ethusdt_api_candles_5m_2099_01_01", "btcusdt_api_candles_5m_2026_01_01"):
        con.execute("INSERT INTO _collections VALUES (?, 'document')", (name,))
        con.execute(f'CREATE TABLE "{name}" (_key TEXT PRIMARY KEY, symbol TEXT, time INTEGER, doc TEXT NOT NULL)')
    for i, c in enumerate(candles.to_dict("records")):
        doc = dict(c, symbol="BTCUSDT", _key=f"BTCUSDT_5m_{c['time']}")
        con.execute(f'INSERT INTO "{cc}" VALUES (?, ?, ?, ?)', (doc["_key"], "BTCUSDT", c["time"], json.dumps(doc)))
        # Two trades per candle adding up to its volume and notional.
        for j in range(2):
            t = {"symbol": "BTCUSDT", "time": c["time"] + j, "price": c["quote_volume"] / c["volume"],
                 "qty": c["volume"] / 2, "agg_id": 2 * i + j, "buyer_maker": bool(j)}
            con.execute(f'INSERT INTO "{tc}" VALUES (?, ?, ?, ?)', (f"BTCUSDT_{2 * i + j}", "BTCUSDT", t["time"], json.dumps(t)))
    con.commit()
    con.close()


class PerWindowTest(unittest.TestCase):
    def test_rv_volume_and_gaps(self):
        ms = volvol.CANDLE_MS
        c = pd.DataFrame({
            "time": [0, ms, 2 * ms, 4 * ms, 5 * ms],  # 3*ms missing: the second window is incomplete
            "open": [100, 100, 110, 50, 100], "high": [200] * 5, "low": [1] * 5,
            "close": [100, 110, 99, 100, 100],
            "volume": [1, 2, 3, 4, 5], "quote_volume": [10, 20, 30, 40, 50], "trades": [1] * 5,
        })
        w = volvol.per_window(c, 3 * ms)
        # First window: returns log(100/100) (no previous candle: close/open), log(110/100), log(99/110).
        want = math.sqrt(math.log(1.1) ** 2 + math.log(0.9) ** 2)
        self.assertAlmostEqual(w["rv"].iloc[0], want, places=12)
        # Second: 4*ms follows a gap, so log(100/50) from its own open, not log(100/99).
        self.assertAlmostEqual(w["rv"].iloc[1], math.log(2), places=12)
        self.assertEqual(list(w["volume"]), [6, 9])
        self.assertEqual(list(w["notional"]), [60, 90])
        self.assertEqual(list(w["complete"]), [True, False])
        self.assertEqual(len(volvol.analysable(w)), 1)


class StatsTest(unittest.TestCase):
    def test_t_quantile(self):
        for dof, want in [(5, 2.5706), (10, 2.2281), (30, 2.0423), (1000, 1.9623)]:
            self.assertAlmostEqual(volvol.t_quantile_975(dof), want, delta=0.003, msg=f"dof={dof}")

    def test_fisher_ci_holds_r(self):
        lo, hi, p = volvol.fisher_ci(0.3, 100)
        self.assertAlmostEqual(lo, 0.1101, places=3)
        self.assertAlmostEqual(hi, 0.4688, places=3)
        self.assertLess(p, 0.01)

    def test_spearman_ties(self):
        x = np.array([1.0, 2, 2, 3])
        self.assertEqual(list(volvol.ranks(x)), [1, 2.5, 2.5, 4])

    def test_ols_recovers_slope(self):
        rng = np.random.default_rng(1)
        x = rng.normal(size=500)
        y = 2 + 0.5 * x + rng.normal(0, 0.1, size=500)
        f = volvol.ols(x, y)
        self.assertLess(f["slope_lo"], 0.5)
        self.assertGreater(f["slope_hi"], 0.5)
        self.assertAlmostEqual(f["intercept"], 2, delta=0.02)

    def test_block_bootstrap_keeps_blocks(self):
        x = np.arange(100, dtype=float)
        got = volvol.moving_block_bootstrap(x, x, {"first_diff_ones": lambda u, v: float((np.diff(u) == 1).mean())},
                                            50, 10, np.random.default_rng(0))
        # Inside a block consecutive values follow each other: at least 9 of every 10 steps are +1.
        self.assertGreaterEqual(got["first_diff_ones"].min(), 0.89)


class EndToEndTest(unittest.TestCase):
    def run_on(self, coupling: float) -> tuple[dict, volvol.Loaded]:
        with tempfile.TemporaryDirectory() as d:
            write_store(Path(d) / "streamforge.db", synthetic_candles(24 * 10, coupling, seed=3))
            cfg = volvol.Config.from_env({"STORE_PATH": "streamforge.db", "BOOTSTRAP": "300"}, cwd=Path(d))
            loaded = volvol.load(cfg)
        w = volvol.per_window(loaded.candles, cfg.window_ms)
        return volvol.analyse(volvol.analysable(w), cfg.window, cfg.bootstrap, cfg.seed), loaded

    def test_coupled_market_is_detected(self):
        res, loaded = self.run_on(coupling=1.0)
        self.assertEqual(loaded.candle_collection, "btcusdt_api_candles_5m_2026_11_26")
        self.assertEqual(loaded.trade_collection, "btcusdt_api_trades_2026_11_26")
        self.assertEqual(res["n"], 240)
        self.assertGreater(res["boot_r"]["lo"], 0.5)
        self.assertTrue(volvol.verdict(res).startswith("Supported"), volvol.verdict(res))
        w = volvol.per_window(loaded.candles, 3600_000)
        check = volvol.cross_check(w, loaded.trades)
        np.testing.assert_allclose(check["volume_ratio"], 1.0, rtol=1e-9)
        np.testing.assert_allclose(check["notional_ratio"], 1.0, rtol=1e-9)

    def test_independent_market_is_not(self):
        res, _ = self.run_on(coupling=0.0)
        self.assertLess(res["boot_r"]["lo"], 0)
        self.assertGreater(res["boot_r"]["hi"], 0)
        self.assertTrue(volvol.verdict(res).startswith("Not supported"), volvol.verdict(res))


class TimeRangeTest(unittest.TestCase):
    """TIME_RANGE reads one workflow's range from the collection named after
    its first day, leaving out what other workflows stored there."""

    def test_reads_exactly_the_range(self):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d, "streamforge.db")
            write_store(path, synthetic_candles(72, 1.0, 1), day="2026_10_01")  # three days from T0
            for text, hours in [("2026-10-01:2026-10-02", 24), ("2026-10-01T06:00:00Z/2026-10-01T12:00:00Z", 6), (None, 72)]:
                with self.subTest(time_range=text):
                    env = {"STORE_PATH": str(path), **({"TIME_RANGE": text} if text else {})}
                    got = volvol.load(volvol.Config.from_env(env, cwd=Path(d)))
                    self.assertEqual(len(got.candles), hours * 12)
                    self.assertEqual(int(got.trades["agg_trades"].sum()), hours * 12 * 2)
                    if text:
                        lo, hi = volvol.parse_time_range(text)
                        self.assertTrue(got.candles["time"].between(lo, hi - 1).all())

    def test_names_the_missing_collection(self):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d, "streamforge.db")
            write_store(path, synthetic_candles(24, 1.0, 1), day="2026_10_01")
            cfg = volvol.Config.from_env({"STORE_PATH": str(path), "TIME_RANGE": "2026-09-01:2026-10-01"}, cwd=Path(d))
            with self.assertRaisesRegex(LookupError, "btcusdt_api_candles_5m_2026_09_01"):
                volvol.load(cfg)

    def test_bad_range_names_the_variable(self):
        for text in ["2026-10-01", "2026-10-02:2026-10-01", "soon/later"]:
            with self.subTest(text=text), self.assertRaisesRegex(ValueError, "TIME_RANGE"):
                volvol.parse_time_range(text)


class ConfigTest(unittest.TestCase):
    def test_errors_name_the_variable(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaisesRegex(FileNotFoundError, "STORE_PATH"):
                volvol.Config.from_env({}, cwd=Path(d))
            Path(d, "x.db").touch()
            for env, var in [({"WINDOW": "7min"}, "WINDOW"), ({"WINDOW": "soon"}, "WINDOW"),
                             ({"SYMBOL": "btc/usdt"}, "SYMBOL"), ({"BOOTSTRAP": "10"}, "BOOTSTRAP")]:
                with self.subTest(env=env), self.assertRaisesRegex(ValueError, var):
                    volvol.Config.from_env({"STORE_PATH": "x.db", **env}, cwd=Path(d))

    def test_store_found_from_notebooks_or_root(self):
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            (root / "data").mkdir()
            (root / "notebooks").mkdir()
            (root / "data" / "streamforge.db").touch()
            want = (root / "data" / "streamforge.db").resolve()
            self.assertEqual(volvol.Config.from_env({}, cwd=root / "notebooks").store_path, want)
            self.assertEqual(volvol.Config.from_env({}, cwd=root).store_path, want)

    def test_arango_needs_no_store_file(self):
        cfg = volvol.Config.from_env({"ARANGO_URL": "http://127.0.0.1:8529", "ARANGO_PASSWORD": "s3cret"}, cwd=Path("/"))
        self.assertIsNone(cfg.store_path)
        self.assertNotIn("s3cret", cfg.describe())


if __name__ == "__main__":
    unittest.main()
