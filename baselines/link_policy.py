"""Link policies: how a conventional system turns its source bits into channel symbols.

=============  ===============================================================
``paper``      the paper's fixed link at every SNR: polar N = 512, SCL list 4,
               64-QAM, rate 5/8 (3.75 information bits per symbol;
               :class:`baselines.link.DigitalLink`)
``adaptive``   5G NR link adaptation: per channel and SNR, the highest-rate
               MCS of TS 38.214 Table 5.1.3.1-1 whose block error rate,
               measured by this project (:mod:`baselines.bler_table`), is at
               most 10 %; LDPC + QAM (:class:`baselines.ldpc_link.LdpcLink`)
``budget``     equal bandwidth: each utterance gets as many complex symbols as
               DeepSC-ST sends for it (or ``--symbol-budget`` per second) and
               the lowest QAM order whose code rate fits (at most 0.926) with
               the code rate that fills them; LDPC + QAM
=============  ===============================================================

A policy has one method, ``send(messages, num_samples, channel, snr_db)``:
one message of source bits per utterance (``num_samples`` at 16 kHz, for the
budget) -> one :class:`baselines.link.LinkResult` each. A message that cannot
fit its budget raises :class:`LinkDoesNotFit` (a sweep records the cell as
not fitting). Each result's ``bits_per_symbol`` (information bits per
complex symbol of the code it went with) is what the capacity bounds of
:mod:`baselines.capacity` take.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from baselines.bler_table import BLER_TABLE_FILE, choose_mcs, load_bler_table
from baselines.ldpc_link import MAX_CODE_RATE, Block, LdpcLink
from baselines.link import DEFAULT_DECODER, DigitalLink, LinkResult
from baselines.nr_mcs import MODULATION_NAMES, Mcs
from channels import Channel
from deepsc_st.config import get_config
from deepsc_st.errors import UserError
from deepsc_st.frontend import SAMPLE_RATE, num_frames
from deepsc_st.model import output_steps

LINK_POLICY_DESCRIPTIONS = {
    "paper": "the paper's polar code + 64-QAM at rate 5/8 for every SNR",
    "adaptive": "5G NR link adaptation: the highest-rate MCS with measured BLER ≤ 10 % at each SNR, LDPC + QAM",
    "budget": "equal bandwidth: DeepSC-ST's channel symbols per utterance (or the given budget), the lowest QAM order that fits, LDPC + QAM",
}
LINK_POLICIES = tuple(LINK_POLICY_DESCRIPTIONS)
DEFAULT_LINK_POLICY = "paper"


class LinkDoesNotFit(UserError):
    """A message's bits do not fit its symbol budget at any QAM order and code rate."""


def deepsc_st_symbols(num_samples: int) -> int:
    """Complex symbols DeepSC-ST sends for ``num_samples`` samples at 16 kHz: 20 per 40 ms step (about 500 per second)."""
    config = get_config("paper")
    return int(output_steps(num_frames(int(num_samples)), config)) * config.symbols_per_step


def parse_symbol_budget(value) -> float | None:
    """``--symbol-budget``: complex symbols per second of speech (> 0), or None for DeepSC-ST's own count."""
    if value is None or value == "deepsc-st":
        return None
    try:
        budget = float(value)
    except (TypeError, ValueError):
        budget = float("nan")
    if not budget > 0 or budget == float("inf"):
        raise UserError(f"--symbol-budget: {value!r} is not a positive number of symbols per second")
    return budget


class PaperLink:
    """The paper's link (polar + 64-QAM, rate ``k`` / 512) at every SNR."""

    name = "paper"

    def __init__(self, code_k: int, decoder: str = DEFAULT_DECODER):
        self.link = DigitalLink(k=code_k, decoder=decoder)

    def send(self, messages: Sequence[np.ndarray], num_samples: Sequence[int], channel: Channel, snr_db: float) -> list[LinkResult]:
        """One :class:`LinkResult` per 0/1 message (``num_samples``: its utterance's length, unused here)."""
        return self.link.transmit_many(messages, channel, snr_db)


class AdaptiveLink:
    """5G NR link adaptation from the measured BLER table (``table_path``)."""

    name = "adaptive"

    def __init__(self, table_path=BLER_TABLE_FILE):
        self.table = load_bler_table(table_path)
        self._links: dict[int, LdpcLink] = {}

    def mcs(self, channel: str, snr_db: float) -> Mcs:
        """The MCS chosen for ``channel`` at ``snr_db`` dB Es/N0."""
        return choose_mcs(self.table, channel, snr_db)

    def send(self, messages, num_samples, channel, snr_db):
        mcs = self.mcs(channel.name, snr_db)
        link = _link(self._links, mcs.bits_per_symbol)
        plans = [link.plan(np.asarray(m).size, code_rate=mcs.code_rate) for m in messages]
        return link.transmit_many(messages, plans, channel, snr_db)


class BudgetLink:
    """Equal bandwidth: every utterance's bits in the complex symbols DeepSC-ST would spend on it.

    ``symbols_per_second``: the budget per second of speech, None for
    DeepSC-ST's own count (:func:`deepsc_st_symbols`).
    """

    name = "budget"

    def __init__(self, symbols_per_second: float | None = None):
        self.symbols_per_second = symbols_per_second
        self._links: dict[int, LdpcLink] = {}

    def budget(self, num_samples: int) -> int:
        """Complex symbols an utterance of ``num_samples`` samples at 16 kHz may use."""
        if self.symbols_per_second is None:
            return deepsc_st_symbols(num_samples)
        return int(self.symbols_per_second * num_samples / SAMPLE_RATE)

    def plan(self, num_bits: int, num_samples: int) -> tuple[int, tuple[Block, ...]]:
        """(QAM order, code blocks) of the lowest QAM order that fits ``num_bits`` in the budget; :class:`LinkDoesNotFit` if none."""
        symbols = self.budget(num_samples)
        for bits_per_symbol in MODULATION_NAMES:
            try:
                return bits_per_symbol, _link(self._links, bits_per_symbol).plan(num_bits, symbols=symbols)
            except ValueError:
                continue
        need = num_bits / max(symbols, 1)
        raise LinkDoesNotFit(
            f"{num_bits} bits in a budget of {symbols} symbols ({num_samples / SAMPLE_RATE:.2f} s of speech) need "
            f"{need:.2f} bits per symbol; 256-QAM at the highest code rate ({MAX_CODE_RATE:.3f}) carries {8 * MAX_CODE_RATE:.2f}"
        )

    def send(self, messages, num_samples, channel, snr_db):
        planned = [self.plan(np.asarray(m).size, n) for m, n in zip(messages, num_samples)]
        results: list[LinkResult | None] = [None] * len(messages)
        for bits_per_symbol in sorted({order for order, _ in planned}):
            members = [i for i, (order, _) in enumerate(planned) if order == bits_per_symbol]
            sent = self._links[bits_per_symbol].transmit_many([messages[i] for i in members], [planned[i][1] for i in members], channel, snr_db)
            for i, result in zip(members, sent):
                results[i] = result
        return results


def _link(links: dict[int, LdpcLink], bits_per_symbol: int) -> LdpcLink:
    if bits_per_symbol not in links:
        links[bits_per_symbol] = LdpcLink(bits_per_symbol)
    return links[bits_per_symbol]


def make_link_policy(policy: str, code_k: int, decoder: str = DEFAULT_DECODER, symbol_budget: float | None = None):
    """The link policy ``policy`` for a system whose paper link has ``code_k`` information bits per polar codeword."""
    if policy == "paper":
        return PaperLink(code_k, decoder)
    if policy == "adaptive":
        return AdaptiveLink()
    if policy == "budget":
        return BudgetLink(symbol_budget)
    raise UserError(f"unknown link policy {policy!r}; choose one of {', '.join(LINK_POLICIES)}")
