// Text that usually fits in place: the store keys and model names a call builds and hands
// around on its hot path, without a heap allocation unless one is unusually long.
#pragma once

#include <llm/config.hpp>

#include <algorithm>   // std::max
#include <cassert>     // extend_inline
#include <charconv>    // std::to_chars
#include <cstddef>     // std::size_t
#include <cstdint>     // std::int64_t
#include <cstring>     // std::memcpy
#include <memory>      // std::unique_ptr
#include <string_view> // the text
#include <type_traits> // conversions
#include <utility>     // std::exchange

namespace llm::detail {

// Copies n bytes without a call into the C library, whose memcpy costs more than the copy for
// the few bytes of a key's part: two fixed-size moves, overlapping when they must. Small enough
// to be inlined where it is used; longer text goes to the library, which is then worth its call.
LLM_ALWAYS_INLINE char* copy_short(char* out, const char* in, std::size_t n) noexcept
{
    char* const end = out + n;
    if (n > 16) {
        std::memcpy(out, in, n);
    } else if (n >= 8) {
        std::memcpy(out, in, 8);
        std::memcpy(end - 8, in + n - 8, 8);
    } else if (n >= 4) {
        std::memcpy(out, in, 4);
        std::memcpy(end - 4, in + n - 4, 4);
    } else if (n >= 2) {
        std::memcpy(out, in, 2);
        std::memcpy(end - 2, in + n - 2, 2);
    } else if (n == 1) {
        *out = *in;
    }
    return end;
}

template <std::size_t Inline>
class small_string {
public:
    static constexpr std::size_t inline_capacity = Inline;

    small_string() noexcept {} // leaves the bytes past size_ unset, even when value-initialised
    // From any text: a std::string, a string_view, a literal.
    template <class Text>
    requires(std::is_convertible_v<const Text&, std::string_view> && !std::is_same_v<Text, small_string>)
        small_string(const Text& text)
    {
        append(std::string_view(text));
    }

    small_string(const small_string& other)
    {
        if (other.heap_)
            append(other.view());
        else
            copy_inline(other);
    }

    small_string(small_string&& other) noexcept { take(other); }

    small_string& operator=(const small_string& other)
    {
        if (this != &other) {
            size_ = 0;
            if (other.heap_ || heap_)
                append(other.view());
            else
                copy_inline(other);
        }
        return *this;
    }

    small_string& operator=(small_string&& other) noexcept
    {
        if (this != &other) {
            heap_.reset();
            take(other);
        }
        return *this;
    }

    small_string& append(std::string_view text)
    {
        reserve(size_ + text.size());
        copy_short(data() + size_, text.data(), text.size());
        size_ += text.size();
        return *this;
    }

    small_string& append(char c)
    {
        reserve(size_ + 1);
        data()[size_++] = c;
        return *this;
    }

    // Lengthens the text by n bytes and returns where they begin, for the caller to fill.
    char* extend(std::size_t n)
    {
        reserve(size_ + n);
        return data() + std::exchange(size_, size_ + n);
    }

    // extend() on an empty string that the caller knows `n` fits in place: no test of either.
    char* extend_inline(std::size_t n) noexcept
    {
        assert(size_ == 0 && n <= Inline);
        size_ = n;
        return inline_;
    }

    small_string& append_number(std::int64_t n)
    {
        char digits[20];
        const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
        return append(std::string_view(digits, static_cast<std::size_t>(end - digits)));
    }

    void clear() noexcept { size_ = 0; }

    void reserve(std::size_t wanted)
    {
        if (wanted <= capacity())
            return;
        const std::size_t grown = std::max(wanted, 2 * capacity());
        auto bigger = std::make_unique<char[]>(grown);
        std::memcpy(bigger.get(), data(), size_);
        heap_ = std::move(bigger);
        heap_capacity_ = grown;
    }

    const char* data() const noexcept { return heap_ ? heap_.get() : inline_; }
    char* data() noexcept { return heap_ ? heap_.get() : inline_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::size_t capacity() const noexcept { return heap_ ? heap_capacity_ : Inline; }

    std::string_view view() const noexcept { return {data(), size_}; }
    operator std::string_view() const noexcept { return view(); }

    friend bool operator==(const small_string& a, std::string_view b) noexcept { return a.view() == b; }

private:
    // Short text is copied whole: a copy of a size known when compiling is a few register
    // moves, where one of just the used bytes would be a call.
    void copy_inline(const small_string& other) noexcept
    {
        std::memcpy(inline_, other.inline_, Inline);
        size_ = other.size_;
    }

    // Long text changes hands with its buffer.
    void take(small_string& other) noexcept
    {
        if (other.heap_) {
            heap_ = std::move(other.heap_);
            heap_capacity_ = other.heap_capacity_;
            size_ = other.size_;
        } else {
            copy_inline(other);
        }
        other.size_ = 0;
    }

    std::unique_ptr<char[]> heap_;
    std::size_t heap_capacity_ = 0;
    std::size_t size_ = 0;
    char inline_[Inline]; // the text when it fits
};

} // namespace llm::detail
