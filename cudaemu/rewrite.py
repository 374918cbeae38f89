#!/usr/bin/env python3
"""Rewrites a .cu file into host C++ for the emulated CUDA device, keeping every line where it
was (errors and sanitizer reports name the .cu file's own lines):

  kernel<<<grid, block[, shared[, stream]]>>>(args)
      -> ::curec_emu::Launch("kernel", __FILE__, __LINE__, &kernel, barrier_free, grid, block[, ...])(
             [](auto&... a) { kernel(a...); }, args)
     (a call inside a lambda, so that a kernel template's arguments are deduced as at a launch;
     &kernel is nullptr for a template named without its arguments; barrier_free when neither
     the kernel's body nor any __device__ function of the file uses a barrier or warp operation,
     so its threads need no fibers)
  __shared__ T name[N]...;        -> auto& name = ::curec_emu::shared_var<T[N]...>("name:LINE");
  extern __shared__ T name[];     -> T* name = ::curec_emu::dynamic_shared<T>();

Usage: rewrite.py INPUT.cu OUTPUT.cpp. Anything it cannot rewrite is an error naming the line.
"""
import re
import sys


def code_mask(text):
    """True for each character of code (not inside a comment or a string/char literal)."""
    mask = [True] * len(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        two = text[i:i + 2]
        if two == "//":
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif two == "/*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j += 1
        else:
            i += 1
            continue
        for k in range(i, min(j, n)):
            mask[k] = False
        i = j
    return mask


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def fail(path, text, pos, why):
    sys.exit(f"{path}:{line_of(text, pos)}: cudaemu/rewrite.py: {why}")


def callee_start(text, end):
    """Start of the kernel expression that ends at `end` (a name, maybe qualified, maybe with
    template arguments)."""
    i = end
    while True:
        while i > 0 and text[i - 1].isspace():
            i -= 1
        if i > 0 and text[i - 1] == ">":  # template arguments: match the angle brackets
            depth = 0
            while i > 0:
                i -= 1
                if text[i] == ">":
                    depth += 1
                elif text[i] == "<":
                    depth -= 1
                    if depth == 0:
                        break
            while i > 0 and text[i - 1].isspace():
                i -= 1
        j = i
        while j > 0 and (text[j - 1].isalnum() or text[j - 1] == "_"):
            j -= 1
        if j == i:
            return None
        i = j
        if text[max(0, i - 2):i] == "::":
            i -= 2
            continue
        return i


def template_kernels(text):
    """Names of the kernel templates the file defines (launched without <...>, their address is
    not known before deduction)."""
    return set(re.findall(r"template\s*<[^;{]*?>\s*__global__\s+void\s+(\w+)", text))


BLOCKING = re.compile(r"__syncthreads|__syncwarp|__shfl|__ballot_sync|__any_sync|__all_sync|__activemask|"
                      r"__match_|__reduce_\w+_sync|cooperative_groups")


def body_after(text, pos):
    """The brace-balanced body of the function whose declaration starts at pos."""
    start = text.find("{", pos)
    if start < 0:
        return ""
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i + 1]
    return text[start:]


def included_device_code(path, text):
    """The text of the project's device headers (#include "....cuh") the file includes, each found
    from the file's folder or a folder above it: their __device__ functions may block too."""
    import os
    found = []
    for name in re.findall(r'#include\s+"([^"]+\.cuh)"', text):
        folder = os.path.dirname(os.path.abspath(path))
        while True:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                with open(candidate, encoding="utf-8") as f:
                    found.append(f.read())
                break
            if os.path.dirname(folder) == folder:
                break
            folder = os.path.dirname(folder)
    return "\n".join(found)


def barrier_free_kernels(text, headers=""):
    """Kernels of the file whose threads never block: no barrier or warp operation in their
    bodies, nor in any __device__ function of the file or of the device headers it includes
    (which they might call)."""
    for code in (text, headers):
        for m in re.finditer(r"__device__[^;{]*\(", code):
            if BLOCKING.search(body_after(code, m.start())):
                return set()
    free = set()
    for m in re.finditer(r"__global__\s+void\s+(\w+)", text):
        if not BLOCKING.search(body_after(text, m.start())):
            free.add(m.group(1))
    return free


def rewrite_launches(path, text):
    out, pos = [], 0
    mask = code_mask(text)
    templates = template_kernels(text)
    free = barrier_free_kernels(text, included_device_code(path, text))
    for m in re.finditer(r"<<<", text):
        if not mask[m.start()] or m.start() < pos:
            continue
        start = callee_start(text, m.start())
        if start is None or start < pos:
            fail(path, text, m.start(), "cannot find the kernel before '<<<'")
        close = text.find(">>>", m.end())
        if close < 0:
            fail(path, text, m.start(), "'<<<' without '>>>'")
        paren = close + 3
        while paren < len(text) and text[paren].isspace():
            paren += 1
        if paren >= len(text) or text[paren] != "(":
            fail(path, text, m.start(), "a launch without its argument list after '>>>'")
        j = paren + 1
        while j < len(text) and text[j].isspace():
            j += 1
        empty = j < len(text) and text[j] == ")"
        callee = text[start:m.start()].strip()
        name = " ".join(callee.split()).replace('"', "'")
        bare = callee.split("::")[-1].strip()
        address = "nullptr" if bare in templates else f"reinterpret_cast<const void*>(&{callee})"
        config = text[m.end():close]
        body = f"[](auto&... curec_emu_a) {{ {callee}(curec_emu_a...); }}" + ("" if empty else ", ")
        out.append(text[pos:start])
        flag = "true" if bare.split("<")[0].strip() in free else "false"
        out.append(f'::curec_emu::Launch("{name}", __FILE__, __LINE__, {address}, {flag}, {config})')
        out.append(text[close + 3:paren + 1])
        out.append(body)
        pos = paren + 1
    out.append(text[pos:])
    return "".join(out)


DYNAMIC = re.compile(r"extern\s+__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s*)?([^;\[\]]*?)\s*\b(\w+)\s*\[\s*\]\s*;")
STATIC = re.compile(r"__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s*)?([^;=,\[\]]*?)\s*\b(\w+)\s*((?:\[[^\]]*\]\s*)*);")


def rewrite_shared(path, text):
    mask = code_mask(text)

    def dynamic(m):
        if not mask[m.start()]:
            return m.group(0)
        return f"{m.group(1)}* {m.group(2)} = ::curec_emu::dynamic_shared<{m.group(1)}>();"

    text = DYNAMIC.sub(dynamic, text)
    mask = code_mask(text)

    def static(m):
        if not mask[m.start()]:
            return m.group(0)
        dims = "".join(m.group(3).split())
        key = f"{m.group(2)}:{line_of(text, m.start())}"
        return f'auto& {m.group(2)} = ::curec_emu::shared_var<{m.group(1)}{dims}>("{key}");'

    text = STATIC.sub(static, text)
    mask = code_mask(text)
    for m in re.finditer(r"__shared__", text):
        if mask[m.start()]:
            fail(path, text, m.start(), "a __shared__ declaration it cannot rewrite (declare one variable a line: "
                 "`__shared__ T name[N];` or `extern __shared__ T name[];`)")
    return text


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: rewrite.py INPUT.cu OUTPUT.cpp")
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        text = f.read()
    body = rewrite_shared(src, rewrite_launches(src, text))
    if body.count("\n") != text.count("\n"):
        sys.exit(f"{src}: cudaemu/rewrite.py changed the number of lines (a bug in the rewrite)")
    tmp = dst + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f'#line 1 "{src}"\n' + body)
    import os
    os.replace(tmp, dst)


if __name__ == "__main__":
    main()
