// Testbench of hdl-templates/mpe_chain.sv.sbn, driven by the NUnit test MpeChainTests through stdin/stdout.
//
// stdin, whitespace-separated decimal integers:
//   lanes window weight_bits acc_bits beats
//   then per beat: first last seg_log2, `window` activations, `lanes` weights, `lanes` selects
// Beats go in one per clock cycle; each out_valid prints `lanes` signed sums on one line. The last line is
// `cycles N`: clock cycles from the first beat to the last output.
#include <cstdio>
#include <cstdlib>
#include <vector>
#include "Vmpe_chain.h"
#include "verilated.h"
#include "port_bits.h"

static long read_long() {
    long v;
    if (std::scanf("%ld", &v) != 1) { std::fprintf(stderr, "mpe_chain_tb: truncated input\n"); std::exit(2); }
    return v;
}

int main(int argc, char** argv) {
    Verilated::commandArgs(argc, argv);
    Vmpe_chain top;
    const int lanes = read_long(), window = read_long(), wbits = read_long(), acc_bits = read_long();
    const long beats = read_long();
    int sel_bits = 0;
    while ((1 << sel_bits) < window) sel_bits++;

    long cycles = 0, outputs = 0, last_output_cycle = 0;
    auto tick = [&]() {
        top.clk = 0; top.eval();
        top.clk = 1; top.eval();
        cycles++;
        if (top.out_valid) {
            for (int j = 0; j < lanes; j++)
                std::printf(j ? " %lld" : "%lld", (long long)to_signed(get_bits(top.sums, j * acc_bits, acc_bits), acc_bits));
            std::printf("\n");
            outputs++;
            last_output_cycle = cycles;
        }
    };

    top.rst = 1; top.in_valid = 0;
    tick(); tick();
    top.rst = 0;
    cycles = 0;
    for (long b = 0; b < beats; b++) {
        top.in_valid = 1;
        top.in_first = read_long();
        top.in_last = read_long();
        top.seg_log2 = read_long();
        for (int i = 0; i < window; i++) put_bits(top.act, i * 8, 8, uint64_t(read_long()));
        for (int i = 0; i < lanes; i++) put_bits(top.weight, i * wbits, wbits, uint64_t(read_long()));
        for (int i = 0; i < lanes; i++) put_bits(top.sel, i * sel_bits, sel_bits, uint64_t(read_long()));
        tick();
    }
    top.in_valid = 0;
    for (int i = 0; i < 8; i++) tick();
    top.final();
    std::printf("cycles %ld\n", last_output_cycle);
    return 0;
}
