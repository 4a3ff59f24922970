// Byte-pair encoding of one piece: start from its bytes and, again and again, merge the
// adjacent pair whose joined bytes have the lowest rank (the leftmost of equals), until no
// adjacent pair is a token. The same merges, in the same order, as tiktoken's, so the same ids.
#pragma once

#include <llm/token/rank_table.hpp>

#include <cstddef>     // std::size_t
#include <queue>       // long pieces
#include <string_view> // pieces
#include <vector>      // long pieces

namespace llm::token {

namespace detail {

// Short pieces, the usual case: the parts in an array on the stack, each with the rank of
// merging it with the next, rescanned for the minimum after each merge (n is small).
template <class Emit>
void merge_short(const rank_table& ranks, std::string_view piece, Emit& emit)
{
    constexpr std::size_t capacity = 128;
    struct part {
        std::uint32_t start;
        rank merged; // the rank of this part joined with the next, or no_rank
    };
    part parts[capacity + 1];
    const std::size_t n = piece.size();
    const auto pair_rank = [&](std::size_t from, std::size_t to) { return ranks.find(piece.substr(from, to - from)); };
    std::size_t count = n + 1; // the last is the end sentinel
    for (std::size_t i = 0; i < n; ++i)
        parts[i] = {static_cast<std::uint32_t>(i), i + 2 <= n ? pair_rank(i, i + 2) : no_rank};
    parts[n] = {static_cast<std::uint32_t>(n), no_rank};
    for (;;) {
        rank lowest = no_rank;
        std::size_t at = 0;
        for (std::size_t i = 0; i + 1 < count; ++i)
            if (parts[i].merged < lowest) {
                lowest = parts[i].merged;
                at = i;
            }
        if (lowest == no_rank)
            break;
        // parts[at] absorbs parts[at + 1]; it and its left neighbour now pair differently.
        for (std::size_t i = at + 1; i + 1 < count; ++i)
            parts[i] = parts[i + 1];
        --count;
        parts[at].merged = at + 2 < count ? pair_rank(parts[at].start, parts[at + 2].start) : no_rank;
        if (at > 0)
            parts[at - 1].merged = pair_rank(parts[at - 1].start, parts[at + 1].start);
    }
    for (std::size_t i = 0; i + 1 < count; ++i)
        emit(ranks.find(piece.substr(parts[i].start, parts[i + 1].start - parts[i].start)));
}

// Long pieces (a line of base64, a word repeated without spaces): a linked list of parts and a
// heap of candidate merges ordered by (rank, position), so the cost grows as n log n. Entries
// that a merge made stale are skipped when they surface.
template <class Emit>
void merge_long(const rank_table& ranks, std::string_view piece, Emit& emit)
{
    const std::size_t n = piece.size();
    std::vector<std::size_t> next(n), prev(n);
    std::vector<bool> alive(n, true);
    for (std::size_t i = 0; i < n; ++i) {
        next[i] = i + 1;
        prev[i] = i == 0 ? n : i - 1;
    }
    const auto end_of = [&](std::size_t i) { return next[i]; }; // a part spans [i, next[i])
    struct candidate {
        rank r;
        std::size_t left;
        std::size_t right_end; // the pair's end when queued: stale if it changed
        bool operator>(const candidate& o) const { return r != o.r ? r > o.r : left > o.left; }
    };
    std::priority_queue<candidate, std::vector<candidate>, std::greater<>> queue;
    const auto consider = [&](std::size_t left) {
        const std::size_t right = next[left];
        if (right >= n)
            return;
        const std::size_t stop = end_of(right);
        const rank r = ranks.find(piece.substr(left, stop - left));
        if (r != no_rank)
            queue.push({r, left, stop});
    };
    for (std::size_t i = 0; i + 1 < n; ++i)
        consider(i);
    while (!queue.empty()) {
        const candidate c = queue.top();
        queue.pop();
        if (!alive[c.left] || next[c.left] >= n || end_of(next[c.left]) != c.right_end)
            continue;
        const std::size_t right = next[c.left];
        alive[right] = false;
        next[c.left] = next[right];
        if (next[c.left] < n)
            prev[next[c.left]] = c.left;
        consider(c.left);
        if (prev[c.left] < n)
            consider(prev[c.left]);
    }
    for (std::size_t i = 0; i < n; i = next[i])
        emit(ranks.find(piece.substr(i, next[i] - i)));
}

} // namespace detail

// Calls emit(rank) for each token of `piece`, which must not be empty.
template <class Emit>
void byte_pair_encode(const rank_table& ranks, std::string_view piece, Emit&& emit)
{
    if (piece.size() == 1) {
        emit(ranks.find(piece));
        return;
    }
    if (piece.size() <= 128)
        detail::merge_short(ranks, piece, emit);
    else
        detail::merge_long(ranks, piece, emit);
}

} // namespace llm::token
