"""5G NR modulation and coding schemes (MCS): TS 38.214 Tables 5.1.3.1-1 and -2 (PDSCH).

An MCS is a QAM order and a target code rate; its spectral efficiency
(information bits per complex symbol) is their product. The values come from
Sionna (:func:`sionna.phy.nr.utils.decode_mcs_index`); the tests hold them
against the standard's tables written out by hand.

>>> [mcs.label for mcs in mcs_table(1)[:2]]
['MCS 0 (QPSK, R 0.117)', 'MCS 1 (QPSK, R 0.153)']
>>> round(mcs_table(1)[-1].spectral_efficiency, 4)  # MCS 28: 64-QAM, 948/1024
5.5547
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

MCS_TABLES = (1, 2)  # Table 5.1.3.1-1 (up to 64-QAM, the paper's modulation) and -2 (up to 256-QAM)
DEFAULT_MCS_TABLE = 1
MODULATION_NAMES = {2: "QPSK", 4: "16-QAM", 6: "64-QAM", 8: "256-QAM"}


@dataclass(frozen=True)
class Mcs:
    """One modulation and coding scheme.

    ``index``: I_MCS in its ``table``. ``bits_per_symbol``: QAM order Q_m
    (2, 4, 6, 8). ``code_rate``: target code rate R (information bits per coded bit).
    """

    table: int
    index: int
    bits_per_symbol: int
    code_rate: float

    @property
    def spectral_efficiency(self) -> float:
        """Information bits per complex symbol, Q_m x R."""
        return self.bits_per_symbol * self.code_rate

    @property
    def label(self) -> str:
        return f"MCS {self.index} ({MODULATION_NAMES[self.bits_per_symbol]}, R {self.code_rate:.3f})"


@lru_cache(maxsize=None)
def mcs_table(table: int = DEFAULT_MCS_TABLE) -> tuple[Mcs, ...]:
    """Every MCS of TS 38.214 Table 5.1.3.1-``table`` (PDSCH), in index order (reserved rows left out)."""
    if table not in MCS_TABLES:
        raise ValueError(f"unknown MCS table {table!r}; choose one of {', '.join(map(str, MCS_TABLES))}")
    from sionna.phy.nr.utils import decode_mcs_index

    rows = []
    for index in range(29 if table == 1 else 28):
        bits, rate = decode_mcs_index(index, table_index=table, is_pusch=False)
        rows.append(Mcs(table, index, int(bits), float(rate)))
    return tuple(rows)
