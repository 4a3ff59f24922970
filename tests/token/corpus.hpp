// Texts that exercise every rule of the pre-tokenization patterns and the merges: prose in
// many scripts, emoji, combining marks, every kind of white space, digits, code, JSON, URLs,
// contractions, long words, and random strings drawn from the whole of Unicode.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace llm::test {

inline void append_utf8(std::string& out, char32_t c)
{
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

inline std::vector<std::string> handwritten_texts()
{
    // clang-format measures these lines' width in bytes and never settles on a layout.
    // clang-format off
    return {
        "",
        "hello world",
        "Hello, World! How's it going? I'm fine; they're here, we've left, you'll see, he'd go.",
        "HOW'S IT GOING? I'M FINE, THEY'RE HERE, WE'VE LEFT, YOU'LL SEE, HE'D GO. 'S 'T 'Re 'vE 'lL",
        "don't 'sad' rock'n'roll ''s '' ' s 'ſ x'ſ O'Neil l'homme",
        // Scripts
        "Съешь же ещё этих мягких французских булок, да выпей чаю.",
        "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Μία ΚΕΦΑΛΑΙΑ λέξη.",
        "العربية لغة جميلة، وهي لغة القرآن الكريم. ١٢٣٤٥٦٧٨٩٠",
        "עברית היא שפה שמית. שָׁלוֹם עֲלֵיכֶם",
        "हिन्दी भाषा देवनागरी लिपि में लिखी जाती है। क्षत्रिय १२३",
        "日本語のテキストです。東京は大きな都市です。漢字、ひらがな、カタカナ。",
        "中文文本测试。我们正在测试分词器！你好，世界。",
        "한국어 텍스트입니다. 안녕하세요 세계",
        "ภาษาไทยเป็นภาษาที่สวยงาม สวัสดีครับ",
        "Ǆemal ǅemal ǆemal: titlecase ǲ and ǈ, Σίσυφος ΣΊΣΥΦΟΣ",
        // Emoji and marks
        "👨‍👩‍👧‍👦 family, 👍🏽 thumbs, 🏳️‍🌈 flag, 🇳🇴🇺🇸 flags, ❤️ heart, 1️⃣ "
        "keycap",
        "e\u0301 a\u0300\u0316 ñ vs n\u0303, Z\u0351\u036b\u0343a\u0352l\u0357g\u0306o\u0308 \u0301start",
        "\u0301\u0302abc \u0300 \u20dd\u20dd x\u0301Y\u0302z",
        // White space of every kind
        "tabs\tand\t\ttabs\t",
        "cr\rcrlf\r\nlf\n\nend\n",
        "  leading and trailing  ",
        "a\u00a0b\u00a0\u00a0c \u00a0d",
        "\u3000ideographic\u3000space\u2003em\u2009thin\u202fnarrow\u205fmath\u2028line\u2029para\u0085next",
        "\n\n\n   \n\t \r\n  x",
        "   ",
        "\t",
        "\n",
        "x  \n  y",
        "x \u00a0\n",
        " \n \n ",
        "a \t b",
        "a\u000b\u000cb",
        // Digits
        "1 12 123 1234 12345 123456 1234567 3.14159 1,000,000 0x1F 1e10 -42 +7 ٣٤٥ ⅠⅡⅢ ½ ²³ ①②",
        "99999999999999999999999999999999999999999999999999999999",
        // Code
        "int main(int argc, char** argv) {\n    std::cout << \"hi\\n\";\n    return 0;\n}\n",
        "def f(x):\n\tif x > 0:\n\t\treturn x ** 2  # square\n\treturn -x\n",
        "fn main() { let v: Vec<u32> = (0..10).map(|x| x * 2).collect(); println!(\"{:?}\", v); }",
        "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%smith%';",
        "<html><body class=\"x\"><p>Hello&nbsp;world</p></body></html>",
        "const f = async () => { await fetch('/api/v1/users?id=42&sort=desc'); };",
        // JSON and URLs
        "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi!\"}],\"max_tokens\":50}",
        "https://example.com/path/to/page?query=1&x=y#frag http://a.b/c//d/// ftp://x.y/z/ a/b/c // /// ////",
        "path/to/file.txt /usr/local/bin/ C:\\Windows\\System32\\ ~/.config/ !!/ ?/\n/",
        // Long words and runs
        std::string(300, 'a'),
        "Pneumonoultramicroscopicsilicovolcanoconiosis Donaudampfschifffahrtsgesellschaftskapitän",
        std::string(200, '!') + std::string(10, '\n'),
        std::string(500, ' ') + "x",
        "ab" + std::string(260, '-') + "cd",
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkrLw==",
        "<|endoftext|> <|fim_prefix|>x<|fim_suffix|> <|endofprompt|>",
        "MiXeD CaSe WoRdS aND ALLCAPS lowerUPPER UPPERlower camelCaseWord PascalCase snake_case",
    };
    // clang-format on
}

// Random strings, reproducible from the seed: mostly characters from classes the patterns
// treat differently, with code points from anywhere in Unicode (surrogates excepted) mixed in.
inline std::vector<std::string> random_texts(std::size_t count, std::size_t max_length, std::uint32_t seed)
{
    std::mt19937 rng(seed);
    // clang-format off
    const std::u32string pool = U"aZ'sStTmMdDrReEvVlL \t\r\n\u00a0\u3000.,!?-/\\\"(){}[]0123456789_#@$%^&*+=<>|~`:;"
                                U"éÉßÆæΣσπЖжأبعש्ׁक日本中한ไ\u0301\u0308\u20ddǅǈ½²١٢ⅠＡａ🙂👍🏽\u200d❤"
                                U"\ufe0f";
    // clang-format on
    std::vector<std::string> out;
    for (std::size_t t = 0; t < count; ++t) {
        std::string s;
        const std::size_t length = rng() % (max_length + 1);
        for (std::size_t i = 0; i < length; ++i) {
            char32_t c;
            if (rng() % 8 != 0) {
                c = pool[rng() % pool.size()];
            } else {
                do
                    c = static_cast<char32_t>(rng() % 0x110000);
                while (c >= 0xD800 && c <= 0xDFFF);
            }
            append_utf8(s, c);
        }
        out.push_back(std::move(s));
    }
    return out;
}

} // namespace llm::test
