"""What the end of a cell means for a notebook's grading run (`session.classify`), without a kernel: one test per way a cell can end."""

from __future__ import annotations

from helpers.grading.limits import Limits
from helpers.grading.session import OUTPUT_ERROR, TIMEOUT_ERROR, CellEnd, Fault, Then, Verdict, classify

LIMITS = Limits(cell_timeout=7, notebook_timeout=90, memory_bytes=2 * 2**30, output_bytes=3 * 2**20)
LABEL = "code cell 4"


def error(name: str, value: str = "") -> dict:
    """An execute reply's content for a cell that raised `name`."""
    return {"status": "error", "ename": name, "evalue": value}


def test_a_cell_that_ran_is_no_fault_and_the_run_goes_on():
    assert classify(LABEL, CellEnd({"status": "ok"}), LIMITS) == Verdict(None, Then.GO_ON)


def test_a_cell_without_a_reply_that_ended_normally_is_no_fault():
    assert classify(LABEL, CellEnd(), LIMITS) == Verdict(None, Then.GO_ON)


def test_an_error_is_the_cells_fault_with_its_name_and_value_and_the_run_goes_on():
    verdict = classify(LABEL, CellEnd(error("ZeroDivisionError", "division by zero")), LIMITS)
    assert verdict == Verdict(Fault(LABEL, "error", "ZeroDivisionError: division by zero"), Then.GO_ON)


def test_an_errors_name_and_value_enter_the_record_as_safe_bounded_text():
    verdict = classify(LABEL, CellEnd(error("Bad\x1b[31m", "x" * 5000)), LIMITS)
    assert "\x1b" not in verdict.fault.message and len(verdict.fault.message) < 400


def test_output_the_kernel_refused_is_an_output_fault_and_the_healthy_kernel_goes_on():
    verdict = classify(LABEL, CellEnd(error(OUTPUT_ERROR)), LIMITS)
    assert verdict == Verdict(Fault(LABEL, "output", "it printed more than 3 MiB of output; it was stopped"), Then.GO_ON)


def test_a_flood_the_grader_stopped_by_killing_the_kernel_reruns_without_the_cell_whatever_else_was_seen():
    flooded = Verdict(Fault(LABEL, "output", "it printed more than 3 MiB of output; it was stopped"), Then.RERUN)
    for end in (CellEnd(flooded=True), CellEnd({"status": "ok"}, flooded=True), CellEnd(died=True, flooded=True),
                CellEnd(died=True, zygote_died=True, flooded=True), CellEnd(out_of_time=True, flooded=True)):
        assert classify(LABEL, end, LIMITS) == flooded, end


def test_a_cell_past_its_time_limit_is_a_timeout_and_the_kernel_is_probed_before_the_run_goes_on():
    verdict = classify(LABEL, CellEnd(error(TIMEOUT_ERROR)), LIMITS)
    assert verdict == Verdict(Fault(LABEL, "timeout", "it ran longer than the 7 s limit per cell"), Then.PROBE)


def test_a_memory_error_reruns_without_the_cell():
    verdict = classify(LABEL, CellEnd(error("MemoryError")), LIMITS)
    assert verdict == Verdict(Fault(LABEL, "memory", "it ran out of memory (the limit is 2048 MiB of address space)"), Then.RERUN)


def test_a_kernel_that_died_is_the_cells_fault_and_the_run_starts_again_without_it():
    verdict = classify(LABEL, CellEnd(died=True), LIMITS)
    assert verdict.fault.kind == "died" and verdict.then is Then.RERUN and verdict.fatal is None and not verdict.void


def test_without_the_sandbox_a_kernel_that_killed_its_zygote_blames_no_cell_voids_the_attempt_and_ends_the_run():
    verdict = classify(LABEL, CellEnd(died=True, zygote_died=True), Limits(sandbox=False))
    assert verdict.fault is None and verdict.void and verdict.then is Then.RERUN
    assert "killed the process its kernel was forked from" in verdict.fatal and "not graded" in verdict.fatal


def test_in_the_sandbox_a_zygote_that_died_with_its_kernel_is_the_memory_limit_and_the_cells_fault():
    verdict = classify(LABEL, CellEnd(died=True, zygote_died=True), LIMITS)  # the OOM killer picked the zygote of the cgroup
    assert verdict == classify(LABEL, CellEnd(died=True), LIMITS)
    assert "memory limit" in verdict.fault.message and verdict.fatal is None and not verdict.void


def test_the_notebooks_time_running_out_in_a_cell_is_its_timeout_and_ends_the_run():
    verdict = classify(LABEL, CellEnd(out_of_time=True), LIMITS)
    fatal = "the notebook time limit (90 s) ran out in code cell 4"
    assert verdict == Verdict(Fault(LABEL, "timeout", fatal), Then.RERUN, fatal=fatal)
