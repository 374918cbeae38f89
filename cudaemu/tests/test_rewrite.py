#!/usr/bin/env python3
"""cudaemu/rewrite.py on the forms it must handle, and on those it must refuse."""
import os
import subprocess
import sys
import tempfile
import unittest

REWRITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rewrite.py")


def rewrite(source):
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "k.cu"), os.path.join(d, "k.cpp")
        with open(src, "w") as f:
            f.write(source)
        r = subprocess.run([sys.executable, REWRITE, src, dst], capture_output=True, text=True)
        out = None
        if r.returncode == 0:
            with open(dst) as f:
                out = f.read()
        return r.returncode, out, r.stderr


class Rewrite(unittest.TestCase):
    def test_lines_stay_where_they_were(self):
        src = "__global__ void k(int* p) {}\nvoid f(int* p) {\n  k<<<grid_for(n),\n    256, 0, s>>>(p);\n}\n"
        rc, out, _ = rewrite(src)
        self.assertEqual(rc, 0)
        body = out.split("\n", 1)[1]  # after the #line directive
        self.assertTrue(out.startswith('#line 1 "'))
        self.assertEqual(body.count("\n"), src.count("\n"))
        self.assertIn('::curec_emu::Launch("k", __FILE__, __LINE__, reinterpret_cast<const void*>(&k), true, '
                      'grid_for(n),', body.splitlines()[2])

    def test_template_kernel_deduced_or_named(self):
        src = ("template <class T>\n__global__ void fill(T* d, int n) {}\n"
               "void f(float* d) { fill<<<1, 32>>>(d, 3); fill<float><<<1, 32>>>(d, 3); }\n")
        rc, out, _ = rewrite(src)
        self.assertEqual(rc, 0)
        self.assertIn('Launch("fill", __FILE__, __LINE__, nullptr, true, 1, 32)('
                      '[](auto&... curec_emu_a) { fill(curec_emu_a...); }, d, 3)', out)
        self.assertIn('reinterpret_cast<const void*>(&fill<float>)', out)

    def test_barriers_and_warp_operations_need_fibers(self):
        src = ("__device__ float warp_sum(float v) { return __shfl_down_sync(0xffffffffu, v, 1); }\n"
               "__global__ void a(float* x) { x[0] = warp_sum(x[0]); }\n"
               "void f(float* x) { a<<<1, 32>>>(x); }\n")
        rc, out, _ = rewrite(src)
        self.assertEqual(rc, 0)
        self.assertIn("reinterpret_cast<const void*>(&a), false,", out)

    def test_warp_operations_in_an_included_device_header_need_fibers(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "lib", "ops"))
            with open(os.path.join(d, "lib", "ops", "reduce.cuh"), "w") as f:
                f.write("__device__ float warp_sum(float v) { return __shfl_xor_sync(0xffffffffu, v, 1); }\n")
            src, dst = os.path.join(d, "lib", "ops", "k.cu"), os.path.join(d, "k.cpp")
            with open(src, "w") as f:  # found from the file's folder's parent, as the project's include root
                f.write('#include "ops/reduce.cuh"\n__global__ void a(float* x) { x[0] = warp_sum(x[0]); }\n'
                        "void f(float* x) { a<<<1, 32>>>(x); }\n")
            r = subprocess.run([sys.executable, REWRITE, src, dst], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(dst) as f:
                self.assertIn("reinterpret_cast<const void*>(&a), false,", f.read())

    def test_launch_without_arguments_and_in_comments(self):
        src = "__global__ void k() {}\n// k<<<1, 1>>>() in a comment\nvoid f() { k<<<1, 1>>>(); }\n"
        rc, out, _ = rewrite(src)
        self.assertEqual(rc, 0)
        self.assertIn("// k<<<1, 1>>>() in a comment", out)
        self.assertIn("[](auto&... curec_emu_a) { k(curec_emu_a...); })", out)

    def test_shared_declarations(self):
        src = ("__global__ void k(int n) {\n  __shared__ float buf[8][32];\n  __shared__ int total;\n"
               "  extern __shared__ float dyn[];\n}\n")
        rc, out, _ = rewrite(src)
        self.assertEqual(rc, 0)
        self.assertIn('auto& buf = ::curec_emu::shared_var<float[8][32]>("buf:2");', out)
        self.assertIn('auto& total = ::curec_emu::shared_var<int>("total:3");', out)
        self.assertIn("float* dyn = ::curec_emu::dynamic_shared<float>();", out)

    def test_refuses_what_it_cannot_rewrite(self):
        rc, _, err = rewrite("__global__ void k() {\n  __shared__ float a[4], b[4];\n}\n")
        self.assertNotEqual(rc, 0)
        self.assertIn("k.cu:2:", err)
        rc, _, err = rewrite("void f() {\n  (*table[0])<<<1, 1>>>();\n}\n")
        self.assertNotEqual(rc, 0)
        self.assertIn("cannot find the kernel", err)


if __name__ == "__main__":
    unittest.main()
