// The external memory behind the accelerator's AXI-like port, for simulation: a byte array with a fixed latency
// (cycles from an accepted read request to its first beat, and from a write's last beat to its response) and a
// bandwidth in bytes per cycle (at most one 16-byte beat per cycle). One read and one write request may be in
// flight. A request outside the memory stops the simulation with an error, as an AXI slave error would.
#pragma once
#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>

struct AxiMemoryModel {
    static constexpr int Beat = 16;

    std::vector<uint8_t> bytes;
    uint32_t latency;
    double bytes_per_cycle;
    bool error = false;

    // A read or write burst in flight.
    struct Burst {
        bool busy = false;
        uint64_t addr = 0;
        uint32_t total = 0, done = 0;  // bytes requested, beats moved so far
        uint32_t wait = 0;             // cycles before data may move (or the response may leave)
        double credit = 0;             // bytes the bandwidth allows to move now
        uint32_t beats() const { return (total + Beat - 1) / Beat; }
    } rd, wr;

    AxiMemoryModel(uint64_t size, uint32_t latency, double bytes_per_cycle)
        : bytes(size), latency(latency), bytes_per_cycle(bytes_per_cycle) {}

    // Forgets the bursts in flight and the error (the accelerator is being reset); the contents stay.
    void reset() {
        rd = Burst();
        wr = Burst();
        error = false;
    }

    bool in_range(uint64_t addr, uint64_t n) const { return addr <= bytes.size() && n <= bytes.size() - addr; }

    // What the memory drives this cycle.
    bool rd_req_ready() const { return !rd.busy; }
    bool rd_valid() const { return rd.busy && rd.wait == 0 && rd.credit >= Beat; }
    void rd_data(uint32_t* words) const {
        uint8_t beat[Beat] = {0};
        uint64_t at = rd.addr + uint64_t(rd.done) * Beat;
        uint32_t n = rd.total - rd.done * Beat < Beat ? rd.total - rd.done * Beat : Beat;
        std::memcpy(beat, &bytes[at], n);
        std::memcpy(words, beat, Beat);
    }
    bool wr_req_ready() const { return !wr.busy; }
    bool wr_ready() const { return wr.busy && wr.done < wr.beats() && wr.credit >= Beat; }
    bool wr_resp() const { return wr.busy && wr.done == wr.beats() && wr.wait == 0; }

    static void start(Burst& b, uint64_t addr, uint32_t total, uint32_t wait) {
        b.busy = true;
        b.addr = addr;
        b.total = total;
        b.done = 0;
        b.wait = wait;
        b.credit = Beat;
    }

    // What happened at the clock edge: the handshakes the accelerator completed, then one cycle of time.
    void edge(bool rd_req, uint64_t rd_addr, uint32_t rd_bytes, bool rd_beat,
              bool wr_req, uint64_t wr_addr, uint32_t wr_bytes, bool wr_beat, const uint32_t* wr_words, uint32_t wr_strb, bool wr_resp_taken) {
        if (rd_beat) {
            rd.credit -= Beat;
            if (++rd.done == rd.beats()) rd.busy = false;
        }
        if (wr_beat) {
            uint8_t beat[Beat];
            std::memcpy(beat, wr_words, Beat);
            uint64_t at = wr.addr + uint64_t(wr.done) * Beat;
            for (int i = 0; i < Beat; i++)
                if ((wr_strb >> i) & 1) {
                    if (at + i >= wr.addr + wr.total) { error = true; break; }  // a strobe past the request
                    bytes[at + i] = beat[i];
                }
            wr.credit -= Beat;
            if (++wr.done == wr.beats()) wr.wait = latency;
        }
        if (wr_resp_taken) wr.busy = false;
        tick(rd);
        tick(wr);
        if (rd_req) {
            if (!in_range(rd_addr, rd_bytes)) error = true;
            else start(rd, rd_addr, rd_bytes, latency);
        }
        if (wr_req) {
            if (!in_range(wr_addr, wr_bytes)) error = true;
            else start(wr, wr_addr, wr_bytes, 0);
        }
    }

    void tick(Burst& b) {
        if (!b.busy) return;
        if (b.wait > 0) { b.wait--; return; }
        // A token bucket: credit left over after a beat is kept, so a rate below a beat per cycle averages out exactly.
        b.credit += bytes_per_cycle;
        if (b.credit > Beat + bytes_per_cycle) b.credit = Beat + bytes_per_cycle;
    }
};

// A matrix core's memory channel behind its AXI4 port. Reads: INCR bursts of `beat`-byte beats, any number
// outstanding (up to 64 accepted), answered in order. A burst accepted at the end of cycle t may deliver its first
// beat in cycle t + 1 + latency; beats leave at most one a cycle, and at `bytes_per_cycle` on average: a token
// bucket that gains that many bytes every cycle up to one beat more than a beat. A burst outside the channel or not
// beat-aligned is refused (as an AXI slave error). Bytes delivered are counted. Writes (single beats, AWLEN 0 and
// WLAST 1): address and data are always accepted; a write takes effect at the edge that has both, its strobed bytes
// only, and its response is valid from latency + 1 cycles later, in order. A write outside the channel or not
// beat-aligned is refused. The performance model's CoreTiming follows these rules.
struct AxiChannelPort {
    std::vector<uint8_t> bytes;
    uint32_t latency;
    double bytes_per_cycle;
    uint32_t beat;
    bool error = false;
    uint64_t now = 0;
    uint64_t delivered = 0;

    struct Burst {
        uint64_t addr;
        uint32_t beats, done;
        uint64_t ready;
    };
    std::deque<Burst> bursts;
    double credit;

    AxiChannelPort(uint64_t size, uint32_t latency, double bytes_per_cycle, uint32_t beat)
        : bytes(size), latency(latency), bytes_per_cycle(bytes_per_cycle), beat(beat), credit(beat + bytes_per_cycle) {}

    // writes: addresses and data waiting for each other, responses due
    std::deque<uint64_t> write_addresses;
    std::deque<std::vector<uint8_t>> write_data;
    std::deque<uint64_t> responses;

    void reset() {
        bursts.clear();
        write_addresses.clear();
        write_data.clear();
        responses.clear();
        error = false;
        credit = beat + bytes_per_cycle;
    }

    bool bvalid() const { return !responses.empty() && responses.front() <= now; }

    // A write's handshakes at the clock edge: `data` is the beat, `strb` a bit per byte; the response first.
    void write_edge(bool aw, uint64_t addr, bool w, const uint8_t* data, const uint8_t* strb, bool b_taken) {
        if (b_taken) responses.pop_front();
        if (aw) write_addresses.push_back(addr);
        if (w) {
            std::vector<uint8_t> beat_data(2 * beat);
            std::memcpy(beat_data.data(), data, beat);
            std::memcpy(beat_data.data() + beat, strb, beat);
            write_data.push_back(std::move(beat_data));
        }
        while (!write_addresses.empty() && !write_data.empty()) {
            uint64_t at = write_addresses.front();
            const auto& d = write_data.front();
            if (at % beat != 0 || !in_range(at, beat)) error = true;
            else
                for (uint32_t i = 0; i < beat; i++)
                    if (d[beat + i]) bytes[at + i] = d[i];
            write_addresses.pop_front();
            write_data.pop_front();
            responses.push_back(now + 1 + latency);
        }
    }

    bool in_range(uint64_t addr, uint64_t n) const { return addr <= bytes.size() && n <= bytes.size() - addr; }
    bool arready() const { return bursts.size() < 64; }
    bool rvalid() const { return !bursts.empty() && bursts.front().ready <= now && credit >= beat; }
    bool rlast() const { return !bursts.empty() && bursts.front().done + 1 == bursts.front().beats; }
    const uint8_t* rdata() const { return &bytes[bursts.front().addr + uint64_t(bursts.front().done) * beat]; }

    // The clock edge: the beat taken, the bucket's gain, then the request accepted.
    void edge(bool ar, uint64_t addr, uint32_t len, bool r_taken) {
        if (r_taken) {
            credit -= beat;
            delivered += beat;
            if (++bursts.front().done == bursts.front().beats) bursts.pop_front();
        }
        credit += bytes_per_cycle;
        if (credit > beat + bytes_per_cycle) credit = beat + bytes_per_cycle;
        if (ar) {
            uint64_t n = uint64_t(len + 1) * beat;
            if (addr % beat != 0 || !in_range(addr, n)) error = true;
            else bursts.push_back({addr, len + 1, 0, now + 1 + latency});
        }
        now++;
    }
};
