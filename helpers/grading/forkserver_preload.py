"""What the server that grading processes fork from loads once, so that no grading process pays for it:
the grader (and torch with it), and the public examples that every slot's answer-free `helpers` ships
(`answer_free.examples_file`: about 1.3 s of CPU, which each slot used to compute for itself).

Imported for that effect only, by `multiprocessing`'s forkserver (`FORKSERVER_PRELOAD` in this package).
"""

from helpers.grading import workers  # noqa: F401  (what a grading process runs, and the grader with it)
from helpers.grading.answer_free import examples_file

examples_file()
