// Testbench of hdl-templates/group_dequant.sv.sbn, driven by the NUnit test GroupDequantTests.
// stdin: lines `first last group_sum scale_w scale_a` (group_sum signed decimal, scales as binary32 hex), one group
// per clock; stdout: y in hex at each out_valid.
#include <cstdio>
#include "Vgroup_dequant.h"
#include "verilated.h"

int main(int argc, char** argv) {
    Verilated::commandArgs(argc, argv);
    Vgroup_dequant top;
    auto tick = [&]() {
        top.clk = 0; top.eval();
        top.clk = 1; top.eval();
        if (top.out_valid) std::printf("%08x\n", (unsigned)top.y);
    };
    top.rst = 1; top.in_valid = 0;
    tick(); tick();
    top.rst = 0;
    int first, last;
    long long sum;
    unsigned sw, sa;
    while (std::scanf("%d %d %lld %x %x", &first, &last, &sum, &sw, &sa) == 5) {
        top.in_valid = 1;
        top.in_first = first;
        top.in_last = last;
        top.group_sum = (unsigned)(int)sum;
        top.scale_w = sw;
        top.scale_a = sa;
        tick();
    }
    top.in_valid = 0;
    tick(); tick();
    top.final();
    return 0;
}
