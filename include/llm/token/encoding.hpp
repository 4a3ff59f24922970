// An exact tiktoken-compatible tokenizer: cl100k_base (GPT-4, GPT-3.5) and o200k_base (GPT-4o,
// o1, o3, GPT-4.1 and later), loaded from the standard rank files the user provides; the
// library never downloads anything.
//
//   auto loaded = llm::token::encoding::load("cl100k_base", "/path/to/cl100k_base.tiktoken");
//   if (!loaded) ... // loaded.error().message names the file (and line)
//   const llm::token::encoding& enc = loaded.value();
//   std::vector<llm::token::rank> ids = enc.encode("hello world");   // as encode_ordinary
//   std::size_t n = enc.count("hello world");                        // no id vector
//   std::string text = enc.decode(ids).value();
//
// An encoding is immutable once loaded and cheap to copy (copies share the tables): use one
// from any number of threads at once.
#pragma once

#include <llm/token/byte_pair.hpp>
#include <llm/token/pretokenize.hpp>
#include <llm/token/rank_table.hpp>

#include <filesystem> // rank files
#include <memory>     // shared tables
#include <optional>   // bytes_of
#include <span>       // ids to decode
#include <string>     // names, decoded text
#include <utility>    // std::pair
#include <vector>     // ids

namespace llm::token {

// Whether text that spells a special token (e.g. "<|endoftext|>") becomes that token. By
// default it does not: it is encoded as the ordinary text it is, as tiktoken's encode_ordinary
// does, so user input cannot forge one.
enum class special_tokens { as_text, allowed };

class encoding {
public:
    // `name` is "cl100k_base" or "o200k_base"; `ranks` its rank file. Fails with
    // errc::invalid_configuration for an unknown name, a file that cannot be read or is
    // malformed (the message names the file and line), or the rank file of another encoding.
    static result<encoding> load(std::string_view name, const std::filesystem::path& ranks)
    {
        const auto* known = find_known(name);
        if (!known)
            return fail(errc::invalid_configuration,
                        "unknown encoding '" + std::string(name) + "': use cl100k_base or o200k_base");
        BOOST_OUTCOME_TRY(auto table, rank_table::load(ranks));
        if (table.size() != known->tokens)
            return fail(errc::invalid_configuration, "rank file " + ranks.string() + " holds " +
                                                         std::to_string(table.size()) + " tokens, but " +
                                                         std::string(name) + " has " + std::to_string(known->tokens) +
                                                         ": is it the rank file of another encoding?");
        if (table.bytes_of(known->probe_rank) != known->probe_bytes)
            return fail(errc::invalid_configuration,
                        "rank file " + ranks.string() + " is not " + std::string(name) + "'s: its token " +
                            std::to_string(known->probe_rank) + " should be \"" + std::string(known->probe_bytes) +
                            "\" (scripts/fetch-tiktoken fetches the standard files and checks them)");
        auto s = std::make_shared<state>();
        s->name = known->name;
        s->split = known->split;
        s->ranks = std::move(table);
        s->specials = known->specials;
        return encoding(std::move(s));
    }

    std::string_view name() const noexcept { return state_->name; }

    // The ids of `text`. Bytes that are not valid UTF-8 are encoded too, as tiktoken's
    // encode_bytes does: from the first invalid byte on, the rest (with the piece before it) is
    // byte-pair encoded as one piece, so decode(encode(x)) == x for any bytes.
    std::vector<rank> encode(std::string_view text, special_tokens specials = special_tokens::as_text) const
    {
        std::vector<rank> out;
        out.reserve(text.size() / 4 + 4);
        encode_into(text, specials, out);
        return out;
    }

    // How many ids encode(text) returns, without building them.
    std::size_t count(std::string_view text, special_tokens specials = special_tokens::as_text) const
    {
        if (valid_utf8_prefix(text) != text.size())
            return encode(text, specials).size(); // the repair needs the last piece's ids
        std::size_t n = 0;
        each_segment(
            text, specials, [&](std::string_view ordinary) { n += count_valid(ordinary); }, [&](rank) { ++n; });
        return n;
    }

    // The bytes of `ids`; fails with errc::bad_request naming the first id no token has.
    result<std::string> decode(std::span<const rank> ids) const
    {
        std::string out;
        for (const rank id : ids) {
            const auto bytes = bytes_of(id);
            if (!bytes)
                return fail(errc::bad_request, "token id " + std::to_string(id) + " is not in " + state_->name);
            out.append(*bytes);
        }
        return out;
    }

    // The bytes of one id, special tokens included; nullopt for an id no token has.
    std::optional<std::string_view> bytes_of(rank id) const noexcept
    {
        if (const auto bytes = state_->ranks.bytes_of(id); !bytes.empty())
            return bytes;
        for (const auto& [text, special_id] : state_->specials)
            if (special_id == id)
                return text;
        return std::nullopt;
    }

    // The id of a special token (e.g. "<|endoftext|>"), or no_rank.
    rank special(std::string_view text) const noexcept
    {
        for (const auto& [t, id] : state_->specials)
            if (t == text)
                return id;
        return no_rank;
    }

private:
    using special_list = std::vector<std::pair<std::string_view, rank>>;

    struct known_encoding {
        std::string_view name;
        pattern split;
        std::size_t tokens;
        special_list specials;
        // One token every copy of the standard file has, to tell it from another file of the
        // same size.
        rank probe_rank;
        std::string_view probe_bytes;
    };

    static const known_encoding* find_known(std::string_view name)
    {
        static const known_encoding known[] = {
            {"cl100k_base",
             pattern::cl100k,
             100256,
             {{"<|endoftext|>", 100257},
              {"<|fim_prefix|>", 100258},
              {"<|fim_middle|>", 100259},
              {"<|fim_suffix|>", 100260},
              {"<|endofprompt|>", 100276}},
             15339,
             "hello"},
            {"o200k_base",
             pattern::o200k,
             199998,
             {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}},
             24912,
             "hello"},
        };
        for (const auto& k : known)
            if (k.name == name)
                return &k;
        return nullptr;
    }

    struct state {
        std::string name;
        pattern split = pattern::cl100k;
        rank_table ranks;
        special_list specials;
    };

    explicit encoding(std::shared_ptr<const state> s) : state_(std::move(s)) {}

    // Splits text at the special tokens (when allowed): ordinary(text) for the text between
    // them, special(id) for each.
    template <class Ordinary, class Special>
    void each_segment(std::string_view text, special_tokens specials, Ordinary&& ordinary, Special&& special) const
    {
        if (specials == special_tokens::as_text) {
            ordinary(text);
            return;
        }
        while (!text.empty()) {
            std::size_t first = std::string_view::npos;
            const std::pair<std::string_view, rank>* which = nullptr;
            for (const auto& s : state_->specials) {
                const auto at = text.find(s.first);
                if (at < first) {
                    first = at;
                    which = &s;
                }
            }
            if (!which) {
                ordinary(text);
                return;
            }
            if (first > 0)
                ordinary(text.substr(0, first));
            special(which->second);
            text.remove_prefix(first + which->first.size());
        }
    }

    // Each piece: one lookup when the whole piece is a token (most are), else its merges.
    template <class Emit>
    void encode_valid(std::string_view text, Emit&& emit, std::size_t* last_piece_tokens = nullptr) const
    {
        pretokenize(state_->split, text, [&](std::string_view piece) {
            if (const rank r = state_->ranks.find(piece); r != no_rank) {
                emit(r);
                if (last_piece_tokens)
                    *last_piece_tokens = 1;
                return;
            }
            std::size_t n = 0;
            byte_pair_encode(state_->ranks, piece, [&](rank r) {
                emit(r);
                ++n;
            });
            if (last_piece_tokens)
                *last_piece_tokens = n;
        });
    }

    std::size_t count_valid(std::string_view text) const
    {
        std::size_t n = 0;
        encode_valid(text, [&](rank) { ++n; });
        return n;
    }

    void encode_into(std::string_view text, special_tokens specials, std::vector<rank>& out) const
    {
        each_segment(
            text, specials, [&](std::string_view ordinary) { encode_ordinary(ordinary, out); },
            [&](rank id) { out.push_back(id); });
    }

    void encode_ordinary(std::string_view text, std::vector<rank>& out) const
    {
        const std::size_t valid = valid_utf8_prefix(text);
        const std::size_t before = out.size();
        std::size_t last_piece = 0;
        encode_valid(
            text.substr(0, valid), [&](rank r) { out.push_back(r); }, &last_piece);
        if (valid == text.size())
            return;
        // tiktoken's encode_bytes: the piece before the invalid byte may have been split where the
        // whole would not be; take it back, with any all-space tokens before it (cl100k's
        // \s*[\r\n]+ can move such splits), and encode it with the rest as one piece.
        const auto all_space = [&](rank r) {
            const auto bytes = state_->ranks.bytes_of(r);
            return bytes.find_first_not_of(" \n\t") == std::string_view::npos;
        };
        const std::size_t produced = out.size() - before;
        if (last_piece > 0 && all_space(out[out.size() - last_piece]))
            while (last_piece < produced && all_space(out[out.size() - last_piece - 1]))
                ++last_piece;
        std::string unstable;
        for (std::size_t i = out.size() - last_piece; i < out.size(); ++i)
            unstable.append(state_->ranks.bytes_of(out[i]));
        out.resize(out.size() - last_piece);
        unstable.append(text.substr(valid));
        byte_pair_encode(state_->ranks, unstable, [&](rank r) { out.push_back(r); });
    }

    std::shared_ptr<const state> state_;
};

} // namespace llm::token
