"""Running an evaluation: put a question set to a PolicyBot (or read another system's outputs),
judge the example profiles, and gather everything into the metrics.json a report is drawn from.

The metrics themselves are the pure functions of bot/evaluation/metrics.py; this module only collects inputs.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from bot.errors import PolicyBotError, ProfileError
from bot.evaluation.metrics import (
    AnswerRecord,
    RetrievalResult,
    answer_metrics,
    answer_metrics_by_category,
    evaluate_retrieval,
    retrieval_questions,
)
from bot.evaluation.questions import Question

if TYPE_CHECKING:
    from bot.index.store import PolicyIndex
    from bot.matching.engine import Rule
    from bot.records import Answer
    from bot.service import PolicyBot

Tick = Callable[[], None]


@dataclass
class EvalRun:
    """One run's raw results; `metrics()` is what metrics.json holds."""

    source: str  # what was evaluated: "policybot extractive", "policybot llm", "system answers.jsonl"
    questions_file: str
    questions: list[Question]
    retrieval: dict[str, RetrievalResult] = field(default_factory=dict)
    records: list[AnswerRecord] = field(default_factory=list)
    matching: dict | None = None
    missing: list[str] = field(default_factory=list)  # question ids a system gave no output for
    seconds: float = 0.0

    def metrics(self) -> dict:
        multi = [q for q in self.questions if q.turns]
        out: dict = {
            "meta": {
                "source": self.source,
                "questions_file": self.questions_file,
                "questions": len(self.questions),
                "multi_turn_questions": len(multi),
                "turns_scored": len(self.records),
                "retrieval_questions": len(retrieval_questions(self.questions)),
                "retrieval_note": "retrieval of a multi-turn question is scored on its first turn only",
                "date": datetime.datetime.now().isoformat(timespec="seconds"),
                "seconds": round(self.seconds, 1),
            },
            "retrieval": {mode: r.metrics() for mode, r in self.retrieval.items()},
            "retrieval_by_category": {mode: r.by_category() for mode, r in self.retrieval.items()},
        }
        if self.missing:
            out["meta"]["missing_outputs"] = self.missing
        if self.records:
            out["answers"] = answer_metrics(self.records)
            out["answers_by_category"] = answer_metrics_by_category(self.records)
            out["abstention_scores"] = [
                {"id": r.question.id, "category": r.question.category, "answerable": r.question.answerable,
                 "abstained": r.abstained, "score": round(r.abstain_score, 4)}
                for r in self.records if r.abstain_score is not None
            ]
        if self.matching is not None:
            out["matching"] = self.matching
        return out


def count_steps(questions: Sequence[Question], modes: Sequence[str], answers: bool) -> int:
    """How many ticks a run makes: one per search per mode, one per asked turn."""
    return len(modes) * len(retrieval_questions(questions)) + (sum(len(q.asked) for q in questions) if answers else 0)


def run_answers(
    ask: Callable[..., Answer], index: PolicyIndex, questions: Sequence[Question], use_llm: bool = False,
    progress: Tick | None = None,
) -> list[AnswerRecord]:
    """Ask every question (each turn of a multi-turn one in one Conversation) and keep what the
    metrics need, with the abstention model's P(no basis) for the evidence the answer rested on.

    A question the bot refuses with a user-facing error (PolicyBotError) counts as abstained."""
    from bot.answering.abstention import AbstentionModel, looks
    from bot.answering.pipeline import Conversation
    from bot.retrieval.search import Searcher

    model = AbstentionModel.load()
    clauses = index.store.clauses
    closeness = Searcher(index).closeness
    records = []
    for q in questions:
        conversation = Conversation()
        for turn in q.asked:
            started = time.perf_counter()
            try:
                answer = ask(turn.question, conversation=conversation, use_llm=use_llm)
            except PolicyBotError as exc:
                records.append(AnswerRecord(turn, str(exc), True, [], True, (time.perf_counter() - started) * 1000, lead=str(exc)))
                if progress:
                    progress()
                continue
            latency = (time.perf_counter() - started) * 1000
            cited = [clauses[c.clause_id].text for c in answer.citations]
            exact = all(c.quote in clauses[c.clause_id].text for c in answer.citations)
            score = None
            if answer.hits and conversation.turns:
                # What the pipeline's decide step decided on: the query it retrieved with, its hits.
                evidence = looks(conversation.turns[-1].query, answer.hits, index, closeness, model)[-1]
                score = model.probability(evidence)
            records.append(AnswerRecord(turn, answer.text, answer.abstained, cited, exact, latency, score, answer.lead))
            if progress:
                progress()
    return records


def run_bot(
    bot: PolicyBot, questions: Sequence[Question], questions_file: str, modes: Sequence[str], use_llm: bool = False,
    answers: bool = True, progress: Tick | None = None,
) -> EvalRun:
    started = time.perf_counter()
    run = EvalRun(f"policybot {'llm' if use_llm else 'extractive'}", questions_file, list(questions))
    run.retrieval = evaluate_retrieval(questions, bot.search, modes, progress=progress)
    if answers:
        run.records = run_answers(bot.ask, bot.index, questions, use_llm, progress)
    run.seconds = time.perf_counter() - started
    return run


def run_system(
    questions: Sequence[Question], questions_file: str, outputs_file: Path, clause_texts: dict[str, str] | None = None
) -> EvalRun:
    """Score another system's `ask --json` lines; a cited clause it gave no text for is read from
    `clause_texts` (id -> text, from our index when there is one)."""
    from bot.evaluation.system_outputs import load_system_outputs, score_system

    outputs = load_system_outputs(outputs_file)
    retrieval, records, missing = score_system(questions, outputs, clause_texts)
    run = EvalRun(f"system {Path(outputs_file).name}", questions_file, list(questions))
    run.retrieval, run.records, run.missing = {"system": retrieval}, records, missing
    return run


# ---- matching accuracy on eval/profiles ----


def load_expected_verdicts(path: Path) -> dict[str, dict]:
    """eval/profile_verdicts.yaml: profile file name -> {as_of (optional date), verdicts: {rule id: status}}."""
    import yaml

    from bot.matching.engine import STATUS_LABELS  # the verdict statuses, one copy

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"无法读取预期匹配结果（{type(exc).__name__}）", path=path) from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"预期匹配结果 YAML 格式错误：{exc}".splitlines()[0], path=path) from None
    if not isinstance(data, dict):
        raise ProfileError("预期匹配结果应为“画像文件名: {verdicts: {规则: 状态}}”", path=path)
    for name, entry in data.items():
        verdicts = entry.get("verdicts") if isinstance(entry, dict) else None
        if not isinstance(verdicts, dict):
            raise ProfileError(f"{name} 缺少 verdicts（规则编号: 状态）", path=path)
        bad = {r: s for r, s in verdicts.items() if s not in STATUS_LABELS}
        if bad:
            rule, status = next(iter(bad.items()))
            raise ProfileError(f"{name} 的 {rule} 状态 {status!r} 无效（可用 {'、'.join(STATUS_LABELS)}）", path=path)
    return data


def evaluate_matching(rules: Sequence[Rule], profiles_dir: Path, expected_file: Path) -> dict:
    """Share of (profile, rule) verdicts that match the expected status, overall and per profile."""
    from bot.matching.profile import load_profile

    expected = load_expected_verdicts(expected_file)
    known = {r.id for r in rules}
    by_profile: dict[str, dict] = {}
    mismatches: list[dict] = []
    unscored = []
    names: dict[str, str] = {}  # file -> the profile's own name, for reports people read
    for path in sorted(Path(profiles_dir).iterdir()):
        entry = expected.get(path.name)
        if entry is None:
            unscored.append(path.name)
            continue
        as_of = entry.get("as_of")
        if isinstance(as_of, str):
            as_of = datetime.date.fromisoformat(as_of)
        from bot.matching.engine import match

        profile = load_profile(path)
        names[path.name] = profile.name or path.stem
        got = {v.rule_id: v.status for v in match(profile, rules, today=as_of)}
        checked = correct = 0
        for rule, status in entry["verdicts"].items():
            if rule not in known:
                mismatches.append({"profile": path.name, "rule": rule, "expected": status, "got": "（无此规则）"})
                checked += 1
                continue
            checked += 1
            if got[rule] == status:
                correct += 1
            else:
                mismatches.append({"profile": path.name, "rule": rule, "expected": status, "got": got[rule]})
        by_profile[path.name] = {"checked": float(checked), "accuracy": correct / checked if checked else 0.0}
    total = sum(p["checked"] for p in by_profile.values())
    right = sum(p["checked"] * p["accuracy"] for p in by_profile.values())
    return {
        "profiles": float(len(by_profile)),
        "verdicts": float(total),
        "accuracy": right / total if total else 0.0,
        "by_profile": by_profile,
        "mismatches": mismatches,
        "profile_names": names,
        "rule_names": {r.id: r.name for r in rules},
        "unscored_profiles": unscored,
    }
