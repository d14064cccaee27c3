// Bit-level access to Verilator ports of any width: narrow ports are C integers, wide ones VlWide arrays of
// 32-bit words. Shared by the block testbenches.
#pragma once
#include <cstdint>
#include <type_traits>
#include "verilated.h"

inline void put_bits(WData* words, int lsb, int width, uint64_t value) {
    for (int b = 0; b < width; b++) {
        int bit = lsb + b;
        uint32_t mask = 1u << (bit % 32);
        if ((value >> b) & 1) words[bit / 32] |= mask; else words[bit / 32] &= ~mask;
    }
}

template <class T, typename std::enable_if<std::is_integral<T>::value, int>::type = 0>
inline void put_bits(T& port, int lsb, int width, uint64_t value) {
    for (int b = 0; b < width; b++) {
        T mask = T(1) << (lsb + b);
        if ((value >> b) & 1) port |= mask; else port &= ~mask;
    }
}

template <std::size_t N>
inline void put_bits(VlWide<N>& port, int lsb, int width, uint64_t value) { put_bits(port.data(), lsb, width, value); }

inline uint64_t get_bits(const WData* words, int lsb, int width) {
    uint64_t v = 0;
    for (int b = 0; b < width; b++) {
        int bit = lsb + b;
        if ((words[bit / 32] >> (bit % 32)) & 1) v |= uint64_t(1) << b;
    }
    return v;
}

template <class T, typename std::enable_if<std::is_integral<T>::value, int>::type = 0>
inline uint64_t get_bits(const T& port, int lsb, int width) {
    return (uint64_t(port) >> lsb) & (width >= 64 ? ~uint64_t(0) : ((uint64_t(1) << width) - 1));
}

template <std::size_t N>
inline uint64_t get_bits(const VlWide<N>& port, int lsb, int width) { return get_bits(port.data(), lsb, width); }

// Two's complement value of the low `width` bits.
inline int64_t to_signed(uint64_t v, int width) {
    if (width < 64 && ((v >> (width - 1)) & 1)) return int64_t(v | (~uint64_t(0) << width));
    return int64_t(v);
}
