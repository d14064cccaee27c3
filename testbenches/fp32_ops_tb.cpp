// Testbench of the binary32 units (hdl-templates/fp32_mul, fp32_add, int_to_fp32, fp32_exp, fp32_div through testbenches/fp32_ops_top.sv),
// driven by the NUnit test FloatUnitTests. stdin: lines `op a b` in hex (op 0 mul, 1 add, 2 int-to-float, 3 exp, 4 div);
// stdout: y in hex, one line each.
#include <cstdio>
#include "Vfp32_ops_top.h"
#include "verilated.h"

int main(int argc, char** argv) {
    Verilated::commandArgs(argc, argv);
    Vfp32_ops_top top;
    unsigned op, a, b;
    while (std::scanf("%x %x %x", &op, &a, &b) == 3) {
        top.op = op;
        top.a = a;
        top.b = b;
        top.eval();
        std::printf("%08x\n", (unsigned)top.y);
    }
    top.final();
    return 0;
}
