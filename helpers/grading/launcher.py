"""The grading kernel's entry point: run by path as `python -S launcher.py MEMORY FILE_SIZE CPU OUTPUT_CAP [ipykernel args]`,
or `main(argv)` called with the same arguments in a process forked from the zygote (see `zygote`).

It runs inside the sandbox (see `bwrap`), where it and the zygote are the only files of the course
checkout: it sets the resource limits (and refuses to start the kernel, writing why to REFUSED in its
working folder, if one cannot be set: a kernel must never run under a limit someone else chose), then starts ipykernel with stdout/stderr that refuse a cell's
output past OUTPUT_CAP characters. It imports nothing from `helpers` and only the standard library
before ipykernel, so it works with the kernel's PYTHONPATH alone.
"""

import sys

if __name__ == "__main__":
    del sys.path[0]  # this file's folder (helpers/grading/ outside the sandbox): none of it is the kernel's to import

import resource  # noqa: E402

REFUSED = "grader-kernel-refused.txt"  # in the kernel's working folder: why the launcher did not start it


class OutputLimitExceeded(BaseException):
    """Raised by print in a cell past the output limit (BaseException: `except Exception` cannot hide it)."""


def limit(memory: int, file_size: int, cpu: int) -> None:
    """Address space, file size and CPU time as given; no core files. On Linux a limit that cannot be set stops
    the launcher (SystemExit, the reason in REFUSED); macOS refuses some limits, which are then left as they are."""
    for name, kind, value in (("address space", resource.RLIMIT_AS, memory), ("file size", resource.RLIMIT_FSIZE, file_size),
                              ("CPU time", resource.RLIMIT_CPU, cpu), ("core file", resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OverflowError, OSError) as error:
            if sys.platform.startswith("linux"):
                refuse(f"its {name} limit could not be set to {value} ({error})")


def refuse(why: str) -> None:
    """Do not start the kernel: say why in REFUSED, for the grader, and exit."""
    with open(REFUSED, "w") as file:
        file.write(why)
    raise SystemExit(why)


def capped_stream(output_cap: int):
    """ipykernel's OutStream, refusing a cell's writes past `output_cap` characters.

    ipykernel buffers writes between flushes; a print loop fills that buffer faster than the grader
    can read it, so without this cap the kernel runs out of memory, dies or times out at random.
    """
    from ipykernel.iostream import OutStream

    class CappedOutStream(OutStream):
        counts = {}  # characters written per request, stdout and stderr together

        def write(self, string):
            request = self.parent_header.get("msg_id")
            written = CappedOutStream.counts.get(request, 0) + len(string)
            if written > output_cap:
                raise OutputLimitExceeded(f"more than {output_cap} characters of output")
            CappedOutStream.counts = {request: written}
            return super().write(string)

    return CappedOutStream


def main(argv: list[str]) -> None:
    memory, file_size, cpu, output_cap = (int(x) for x in argv[:4])
    limit(memory, file_size, cpu)
    from ipykernel import kernelapp

    sys.modules["__main__"].CappedOutStream = capped_stream(output_cap)  # this script's module, or the zygote's
    sys.argv = ["grader-kernel", *argv[4:], "--IPKernelApp.outstream_class=__main__.CappedOutStream"]
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main(sys.argv[1:])
