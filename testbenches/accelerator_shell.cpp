// The Verilated accelerator as a shared library with a small C API, which the runtime's fpga-sim device calls
// (Codesign.Backends.Fpga.Simulation.VerilatedAccelerator): create it with an external memory, write and read
// that memory, load a program into the instruction memory, run it to END counting cycles (in total and per
// instruction), and learn the fault that stopped it. The memory behind the system port is AxiMemoryModel; each
// matrix core's channel is an AxiChannelPort (reads, and attention's single-beat writes). accelerator_config.h (rendered with the RTL) gives the cores' count and
// beat.
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>
#include "Vaccelerator.h"
#include "verilated.h"
#include "axi_memory_model.h"
#include "accelerator_config.h"
#include "port_bits.h"

namespace {

constexpr uint32_t ExternalFault = 16;  // the memory refused a request outside it

struct Simulator {
    VerilatedContext context;
    Vaccelerator* top;
    AxiMemoryModel memory;
    std::vector<AxiChannelPort> channels;
    std::vector<uint64_t> instruction_cycles;

    Simulator(uint64_t bytes, uint32_t latency, double bytes_per_cycle, uint64_t core_bytes, uint32_t core_latency, double core_bytes_per_cycle)
        : top(new Vaccelerator(&context, "accelerator")), memory(bytes, latency, bytes_per_cycle) {
        for (int c = 0; c < CoreCount; c++) channels.emplace_back(core_bytes, core_latency, core_bytes_per_cycle, CoreBeat);
        top->clk = 0;
        top->rst = 1;
        for (int i = 0; i < 4; i++) cycle();
        top->rst = 0;
        cycle();
    }
    ~Simulator() {
        top->final();
        delete top;
    }

    // One clock: the memory's outputs, the accelerator's reaction, the edge, then the memory takes the handshakes.
    void cycle() {
        top->rd_req_ready = memory.rd_req_ready();
        bool rd_valid = memory.rd_valid();
        top->rd_valid = rd_valid;
        if (rd_valid) memory.rd_data(top->rd_data.data());
        top->wr_req_ready = memory.wr_req_ready();
        top->wr_ready = memory.wr_ready();
        bool wr_resp = memory.wr_resp();
        top->wr_resp = wr_resp;
        bool rvalid[CoreCount];
        for (int c = 0; c < CoreCount; c++) {
            auto& ch = channels[c];
            put_bits(top->core_arready, c, 1, ch.arready());
            rvalid[c] = ch.rvalid();
            put_bits(top->core_rvalid, c, 1, rvalid[c]);
            put_bits(top->core_rlast, c, 1, rvalid[c] && ch.rlast());
            put_bits(top->core_awready, c, 1, 1);
            put_bits(top->core_wready, c, 1, 1);
            put_bits(top->core_bvalid, c, 1, ch.bvalid());
            if (rvalid[c]) {
                const uint8_t* data = ch.rdata();
                for (int i = 0; i < CoreBeat; i += 4) {
                    uint32_t word;
                    std::memcpy(&word, data + i, 4);
                    put_bits(top->core_rdata, (c * CoreBeat + i) * 8, 32, word);
                }
            }
        }
        top->clk = 0;
        top->eval();
        bool ar[CoreCount], r_taken[CoreCount], aw[CoreCount], w[CoreCount], b_taken[CoreCount];
        uint64_t aw_addr[CoreCount];
        std::vector<uint8_t> w_data(size_t(CoreCount) * CoreBeat), w_strb(size_t(CoreCount) * CoreBeat);
        uint64_t ar_addr[CoreCount];
        uint32_t ar_len[CoreCount];
        for (int c = 0; c < CoreCount; c++) {
            ar[c] = get_bits(top->core_arvalid, c, 1) && channels[c].arready();
            ar_addr[c] = get_bits(top->core_araddr, c * 64, 64);
            ar_len[c] = uint32_t(get_bits(top->core_arlen, c * 8, 8));
            r_taken[c] = rvalid[c] && get_bits(top->core_rready, c, 1);
            aw[c] = get_bits(top->core_awvalid, c, 1);
            aw_addr[c] = get_bits(top->core_awaddr, c * 64, 64);
            w[c] = get_bits(top->core_wvalid, c, 1);
            if (w[c])
                for (int i = 0; i < CoreBeat; i++) {
                    w_data[size_t(c) * CoreBeat + i] = uint8_t(get_bits(top->core_wdata, (c * CoreBeat + i) * 8, 8));
                    w_strb[size_t(c) * CoreBeat + i] = uint8_t(get_bits(top->core_wstrb, c * CoreBeat + i, 1));
                }
            b_taken[c] = channels[c].bvalid() && get_bits(top->core_bready, c, 1);
        }
        bool rd_beat = rd_valid && top->rd_ready;
        bool rd_req = top->rd_req_valid && top->rd_req_ready;
        uint64_t rd_addr = top->rd_req_addr;
        uint32_t rd_bytes = top->rd_req_bytes;
        bool wr_req = top->wr_req_valid && top->wr_req_ready;
        uint64_t wr_addr = top->wr_req_addr;
        uint32_t wr_bytes = top->wr_req_bytes;
        bool wr_beat = top->wr_valid && top->wr_ready;
        uint32_t wr_words[4];
        std::memcpy(wr_words, top->wr_data.data(), sizeof wr_words);
        uint32_t wr_strb = top->wr_strb;
        top->clk = 1;
        top->eval();
        memory.edge(rd_req, rd_addr, rd_bytes, rd_beat, wr_req, wr_addr, wr_bytes, wr_beat, wr_words, wr_strb, wr_resp);
        for (int c = 0; c < CoreCount; c++) {
            channels[c].write_edge(aw[c], aw_addr[c], w[c], &w_data[size_t(c) * CoreBeat], &w_strb[size_t(c) * CoreBeat], b_taken[c]);
            channels[c].edge(ar[c], ar_addr[c], ar_len[c], r_taken[c]);
        }
    }

    bool channel_error() const {
        for (const auto& ch : channels) if (ch.error) return true;
        return false;
    }
};

}  // namespace

extern "C" {

// The system memory and its port, and each core's channel (core_bytes each) and its port.
void* codesign_accel_create(uint64_t external_bytes, uint32_t latency, double bytes_per_cycle, uint64_t core_bytes, uint32_t core_latency,
                            double core_bytes_per_cycle) {
    if (bytes_per_cycle <= 0 || bytes_per_cycle > AxiMemoryModel::Beat) return nullptr;
    if (core_bytes_per_cycle <= 0 || core_bytes_per_cycle > CoreBeat) return nullptr;
    try {
        return new Simulator(external_bytes, latency, bytes_per_cycle, core_bytes, core_latency, core_bytes_per_cycle);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}

void codesign_accel_destroy(void* sim) { delete static_cast<Simulator*>(sim); }

int codesign_accel_write(void* handle, uint64_t addr, const uint8_t* data, uint64_t n) {
    auto* sim = static_cast<Simulator*>(handle);
    if (!sim->memory.in_range(addr, n)) return -1;
    if (n) std::memcpy(&sim->memory.bytes[addr], data, n);
    return 0;
}

int codesign_accel_read(void* handle, uint64_t addr, uint8_t* data, uint64_t n) {
    auto* sim = static_cast<Simulator*>(handle);
    if (!sim->memory.in_range(addr, n)) return -1;
    if (n) std::memcpy(data, &sim->memory.bytes[addr], n);
    return 0;
}

int codesign_accel_cores(void) { return CoreCount; }

int codesign_accel_write_core(void* handle, uint32_t core, uint64_t addr, const uint8_t* data, uint64_t n) {
    auto* sim = static_cast<Simulator*>(handle);
    if (core >= uint32_t(CoreCount) || !sim->channels[core].in_range(addr, n)) return -1;
    if (n) std::memcpy(&sim->channels[core].bytes[addr], data, n);
    return 0;
}

int codesign_accel_read_core(void* handle, uint32_t core, uint64_t addr, uint8_t* data, uint64_t n) {
    auto* sim = static_cast<Simulator*>(handle);
    if (core >= uint32_t(CoreCount) || !sim->channels[core].in_range(addr, n)) return -1;
    if (n) std::memcpy(data, &sim->channels[core].bytes[addr], n);
    return 0;
}

// Bytes each core's channel has delivered since the simulator was created.
void codesign_accel_core_bytes(void* handle, uint64_t* out, uint32_t count) {
    auto* sim = static_cast<Simulator*>(handle);
    for (uint32_t c = 0; c < count && c < uint32_t(CoreCount); c++) out[c] = sim->channels[c].delivered;
}

// Writes `count` instructions of 5 little-endian words each into the instruction memory from address 0.
void codesign_accel_load_program(void* handle, const uint32_t* words, uint32_t count) {
    auto* sim = static_cast<Simulator*>(handle);
    for (uint32_t i = 0; i < count; i++) {
        sim->top->prog_we = 1;
        sim->top->prog_addr = i;
        for (int w = 0; w < 5; w++) sim->top->prog_data[w] = words[5 * i + w];
        sim->cycle();
    }
    sim->top->prog_we = 0;
    sim->top->prog_count = count;
    sim->instruction_cycles.assign(count, 0);
}

// Runs the loaded program. Returns 0 at END, 1 on a fault (`fault`: the accelerator's code, or 16 when the
// memory refused a request), 2 when `max_cycles` passed first. `pc` is the instruction it stopped at.
int codesign_accel_run(void* handle, uint64_t max_cycles, uint64_t* cycles, uint32_t* pc, uint32_t* fault) {
    auto* sim = static_cast<Simulator*>(handle);
    auto* top = sim->top;
    top->start = 1;
    sim->cycle();
    top->start = 0;
    uint64_t n = 1;
    int status = 0;
    while (top->busy) {
        if (sim->memory.error || sim->channel_error()) { status = 1; break; }
        if (n >= max_cycles) { status = 2; break; }
        if (top->pc < sim->instruction_cycles.size()) sim->instruction_cycles[top->pc]++;
        sim->cycle();
        n++;
    }
    *cycles = n;
    *pc = top->pc;
    *fault = sim->memory.error || sim->channel_error() ? ExternalFault : top->fault;
    if (status == 0 && *fault != 0) status = 1;
    if (status != 0) {
        // A unit may wait forever on a refused request, or still be busy: reset both sides, keeping the memory.
        top->rst = 1;
        sim->cycle();
        top->rst = 0;
        sim->memory.reset();
        for (auto& ch : sim->channels) ch.reset();
    }
    return status;
}

// Cycles each instruction of the last run took, from its fetch to the next one's.
void codesign_accel_instruction_cycles(void* handle, uint64_t* out, uint32_t count) {
    auto* sim = static_cast<Simulator*>(handle);
    for (uint32_t i = 0; i < count && i < sim->instruction_cycles.size(); i++) out[i] = sim->instruction_cycles[i];
}

}  // extern "C"
