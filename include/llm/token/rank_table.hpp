// The ranks of a byte-pair encoding: every token's bytes and its rank (its id, and the order
// in which merges apply), read from a tiktoken rank file, "base64-of-the-bytes rank" per line.
// Looked up by bytes with an open-addressing table built for this (most lookups are of whole
// pieces a few bytes long), and by rank for decoding.
#pragma once

#include <llm/core/result.hpp>

#include <algorithm>  // std::max
#include <cstdint>    // ranks
#include <cstring>    // std::memcpy, std::memcmp
#include <filesystem> // rank files
#include <fstream>    // reading them
#include <iterator>   // istreambuf_iterator
#include <limits>     // no_rank
#include <string>     // bytes, messages
#include <vector>     // the tables

namespace llm::token {

using rank = std::uint32_t;
inline constexpr rank no_rank = std::numeric_limits<rank>::max();

class rank_table {
public:
    rank_table() = default;

    // Reads a rank file; errors (errc::invalid_configuration) name the file, and the line for
    // a malformed one.
    static result<rank_table> load(const std::filesystem::path& file)
    {
        std::ifstream in(file, std::ios::binary);
        if (!in)
            return fail(errc::invalid_configuration, "cannot open the rank file " + file.string() +
                                                         ": check the path (scripts/fetch-tiktoken fetches "
                                                         "cl100k_base and o200k_base)");
        std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (in.bad())
            return fail(errc::invalid_configuration, "cannot read the rank file " + file.string());
        return parse(contents, file.string());
    }

    // The same from the file's contents; `name` is what errors call it.
    static result<rank_table> parse(std::string_view contents, std::string_view name)
    {
        rank_table t;
        std::size_t line_number = 0;
        std::size_t at = 0;
        rank highest = 0;
        std::vector<std::pair<std::uint32_t, std::uint32_t>> spans; // by line: offset, length
        std::vector<rank> ranks;
        while (at < contents.size()) {
            ++line_number;
            auto end = contents.find('\n', at);
            if (end == std::string_view::npos)
                end = contents.size();
            std::string_view line = contents.substr(at, end - at);
            at = end + 1;
            if (!line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            if (line.empty())
                continue;
            const auto bad = [&](const std::string& why) {
                return fail(errc::invalid_configuration, "rank file " + std::string(name) + ", line " +
                                                             std::to_string(line_number) + ": " + why +
                                                             " (expected \"base64-token rank\")");
            };
            const auto space = line.find(' ');
            if (space == std::string_view::npos || space == 0)
                return bad("no token and rank separated by a space");
            const auto offset = t.bytes_.size();
            if (!base64_decode(line.substr(0, space), t.bytes_))
                return bad("the token is not valid base64");
            const auto number = line.substr(space + 1);
            std::uint64_t r = 0;
            if (number.empty() || number.size() > 10)
                return bad("the rank is not a number below 2^32 - 1");
            for (const char ch : number) {
                if (ch < '0' || ch > '9')
                    return bad("the rank is not a number below 2^32 - 1");
                r = r * 10 + static_cast<std::uint64_t>(ch - '0');
            }
            if (r >= no_rank)
                return bad("the rank is not a number below 2^32 - 1");
            if (t.bytes_.size() == offset)
                return bad("the token is empty");
            spans.emplace_back(static_cast<std::uint32_t>(offset),
                               static_cast<std::uint32_t>(t.bytes_.size() - offset));
            ranks.push_back(static_cast<rank>(r));
            highest = std::max(highest, static_cast<rank>(r));
        }
        if (ranks.empty())
            return fail(errc::invalid_configuration, "rank file " + std::string(name) + " holds no tokens");
        if (highest >= 16 * ranks.size() + 1024)
            return fail(errc::invalid_configuration, "rank file " + std::string(name) + ": ranks go up to " +
                                                         std::to_string(highest) + " for only " +
                                                         std::to_string(ranks.size()) + " tokens; is it a rank file?");
        t.by_rank_.assign(static_cast<std::size_t>(highest) + 1, {0, no_rank});
        std::size_t short_count = 0;
        for (const auto& sp : spans)
            short_count += sp.second <= 8;
        const auto table_size = [](std::size_t n) {
            std::size_t capacity = 16;
            while (capacity < 2 * n)
                capacity *= 2;
            return capacity;
        };
        t.short_slots_.assign(table_size(short_count), short_slot{0, no_rank, 0});
        t.short_mask_ = t.short_slots_.size() - 1;
        t.slots_.assign(table_size(ranks.size() - short_count), slot{0, no_rank});
        t.mask_ = t.slots_.size() - 1;
        for (std::size_t i = 0; i < ranks.size(); ++i) {
            const auto [offset, length] = spans[i];
            const std::string_view bytes(t.bytes_.data() + offset, length);
            if (t.by_rank_[ranks[i]].length != no_rank)
                return fail(errc::invalid_configuration,
                            "rank file " + std::string(name) + ": rank " + std::to_string(ranks[i]) + " appears twice");
            t.by_rank_[ranks[i]] = {offset, length};
            if (const rank earlier = t.insert(bytes, ranks[i]); earlier != no_rank)
                return fail(errc::invalid_configuration,
                            "rank file " + std::string(name) + ": a token appears twice (ranks " +
                                std::to_string(earlier) + " and " + std::to_string(ranks[i]) + ")");
        }
        for (int b = 0; b < 256; ++b) {
            const char byte = static_cast<char>(b);
            if (t.find(std::string_view(&byte, 1)) == no_rank)
                return fail(errc::invalid_configuration,
                            "rank file " + std::string(name) + " has no token for the single byte " +
                                std::to_string(b) +
                                ", so some text could not be encoded: is it a byte-level BPE rank file?");
        }
        t.count_ = ranks.size();
        return t;
    }

    // The rank of exactly these bytes, or no_rank.
    rank find(std::string_view bytes) const noexcept
    {
        if (is_short(bytes))
            return short_slots_[short_slot_of(short_key(bytes), bytes.size())].id;
        return slots_[slot_of(bytes, hash(bytes))].id;
    }

    // The bytes of a rank; empty when no token has it.
    std::string_view bytes_of(rank r) const noexcept
    {
        if (r >= by_rank_.size() || by_rank_[r].length == no_rank)
            return {};
        return {bytes_.data() + by_rank_[r].offset, by_rank_[r].length};
    }

    std::size_t size() const noexcept { return count_; }
    // One past the highest rank.
    rank end_rank() const noexcept { return static_cast<rank>(by_rank_.size()); }

private:
    // Tokens of up to 8 bytes, compared as one number: no call to memcmp, no trip to bytes_.
    struct short_slot {
        std::uint64_t key; // short_key() of the bytes
        rank id;           // no_rank: empty
        std::uint32_t length;
    };

    // The bytes as a number that, with their length, tells them apart from any other bytes:
    // for 4 to 8, the first four and the last four (overlapping when fewer than 8); for 1 to 3,
    // the first, middle and last. Reads nothing outside the bytes.
    static std::uint64_t short_key(std::string_view bytes) noexcept
    {
        const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
        const std::size_t n = bytes.size();
        if (n >= 4) {
            std::uint32_t first, last;
            std::memcpy(&first, p, 4);
            std::memcpy(&last, p + n - 4, 4);
            return first | (static_cast<std::uint64_t>(last) << 32);
        }
        return p[0] | (static_cast<std::uint64_t>(p[n / 2]) << 8) | (static_cast<std::uint64_t>(p[n - 1]) << 16);
    }

    static std::size_t short_hash(std::uint64_t key, std::size_t length) noexcept
    {
        std::uint64_t h = (key ^ (length << 59)) * 0x9E3779B97F4A7C15ull;
        return static_cast<std::size_t>(h ^ (h >> 29));
    }

    struct slot {
        std::uint32_t tag; // the hash's high half, to skip most comparisons
        rank id;           // no_rank: empty
    };

    struct location {
        std::uint32_t offset;
        std::uint32_t length; // no_rank: no token has this rank
    };

    static std::uint64_t hash(std::string_view bytes) noexcept
    {
        constexpr std::uint64_t k = 0x9E3779B97F4A7C15ull;
        std::uint64_t h = bytes.size() * k;
        const char* p = bytes.data();
        std::size_t n = bytes.size();
        while (n >= 8) {
            std::uint64_t w;
            std::memcpy(&w, p, 8);
            h = (h ^ w) * k;
            h ^= h >> 32;
            p += 8;
            n -= 8;
        }
        if (n > 0) {
            std::uint64_t w = 0;
            std::memcpy(&w, p, n);
            h = (h ^ w) * k;
        }
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 32;
        return h;
    }

    // 1 to 8 bytes: most pieces, and most pairs being merged.
    static bool is_short(std::string_view bytes) noexcept { return bytes.size() - 1 < 8; }

    // Where the bytes are in the short tokens' table, or the empty slot where they belong.
    std::size_t short_slot_of(std::uint64_t key, std::size_t length) const noexcept
    {
        std::size_t i = short_hash(key, length) & short_mask_;
        while (short_slots_[i].id != no_rank && !(short_slots_[i].key == key && short_slots_[i].length == length))
            i = (i + 1) & short_mask_;
        return i;
    }

    // The same in the longer tokens' table; `h` is hash(bytes).
    std::size_t slot_of(std::string_view bytes, std::uint64_t h) const noexcept
    {
        const auto tag = static_cast<std::uint32_t>(h >> 32);
        const auto holds = [&](const slot& s) {
            if (s.tag != tag)
                return false;
            const auto& at = by_rank_[s.id];
            return at.length == bytes.size() && std::memcmp(bytes_.data() + at.offset, bytes.data(), bytes.size()) == 0;
        };
        std::size_t i = h & mask_;
        while (slots_[i].id != no_rank && !holds(slots_[i]))
            i = (i + 1) & mask_;
        return i;
    }

    // Adds the bytes under rank r, in the one probe that also finds them if they are there:
    // returns the rank they already have, or no_rank.
    rank insert(std::string_view bytes, rank r)
    {
        if (is_short(bytes)) {
            const std::uint64_t key = short_key(bytes);
            short_slot& s = short_slots_[short_slot_of(key, bytes.size())];
            if (s.id != no_rank)
                return s.id;
            s = {key, r, static_cast<std::uint32_t>(bytes.size())};
            return no_rank;
        }
        const std::uint64_t h = hash(bytes);
        slot& s = slots_[slot_of(bytes, h)];
        if (s.id != no_rank)
            return s.id;
        s = {static_cast<std::uint32_t>(h >> 32), r};
        return no_rank;
    }

    // Appends the decoded bytes; false on anything but padded standard base64.
    static bool base64_decode(std::string_view text, std::string& out)
    {
        if (text.size() % 4 != 0)
            return false;
        const auto value = [](char c) -> int {
            if (c >= 'A' && c <= 'Z')
                return c - 'A';
            if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
            if (c >= '0' && c <= '9')
                return c - '0' + 52;
            if (c == '+')
                return 62;
            if (c == '/')
                return 63;
            return -1;
        };
        for (std::size_t i = 0; i < text.size(); i += 4) {
            const bool last = i + 4 == text.size();
            const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
            if (pad == 1 && text[i + 2] == '=')
                return false; // "x=y=" is not padding
            int v[4];
            for (int k = 0; k < 4 - pad; ++k)
                if ((v[k] = value(text[i + static_cast<std::size_t>(k)])) < 0)
                    return false;
            for (int k = 4 - pad; k < 4; ++k)
                v[k] = 0;
            const std::uint32_t bits = (static_cast<std::uint32_t>(v[0]) << 18) |
                                       (static_cast<std::uint32_t>(v[1]) << 12) |
                                       (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
            out.push_back(static_cast<char>(bits >> 16));
            if (pad < 2)
                out.push_back(static_cast<char>((bits >> 8) & 0xFF));
            if (pad < 1)
                out.push_back(static_cast<char>(bits & 0xFF));
        }
        return true;
    }

    std::string bytes_;                   // every token's bytes, one after another
    std::vector<location> by_rank_;       // where each rank's bytes are
    std::vector<short_slot> short_slots_; // up to 8 bytes -> rank, open addressing
    std::size_t short_mask_ = 0;
    std::vector<slot> slots_; // longer bytes -> rank, open addressing
    std::size_t mask_ = 0;
    std::size_t count_ = 0;
};

} // namespace llm::token
