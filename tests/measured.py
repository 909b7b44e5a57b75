"""Real peak memory of code run on this CPU, as torch's CPU allocator saw it (for memory tests)."""

from __future__ import annotations

from collections.abc import Callable

from torch._C._profiler import _EventType
from torch.profiler import ProfilerActivity, profile


def allocator_peak(run: Callable[[], object]) -> int:
    """Most bytes of CPU tensors allocated by `run` and alive at once, kernels' scratch included.

    The profiler's allocation events carry the allocator's running total of bytes it handed out
    since profiling began, so the peak is exact at the allocator level, as
    torch.cuda.max_memory_allocated is on CUDA. `run` must build whatever it needs itself."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        run()
    events, stack = [], list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        event = stack.pop()
        stack.extend(event.children)
        if event.tag == _EventType.Allocation and event.extra_fields.device.type == "cpu":
            events.append(event)
    # The running total may start above zero if an earlier profile left blocks alive.
    first = min(events, key=lambda event: event.start_time_ns).extra_fields
    start = first.total_allocated - first.alloc_size
    return max(event.extra_fields.total_allocated for event in events) - start
