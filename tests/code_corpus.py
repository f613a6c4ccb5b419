"""Real-looking code for the code block tests: per language, the constructs whose tokens
depend on text far away (strings and comments over many lines, heredocs), plus tabs, wide
characters, long lines, trailing spaces and blank lines."""

from __future__ import annotations

LONG = "word " * 40  # wider than every test width
TRAILING = "   "  # spaces at the end of a line

CORPUS: dict[str, str] = {
    "python": f'''import os
from pathlib import Path


def read_config(path: Path, *, strict: bool = False) -> dict[str, str]:
    """Read a config file.

    The file holds one ``key = value`` pair a line; 注释 are allowed.
    """
    values = {{}}
    for number, line in enumerate(path.read_text().splitlines(), 1):
\tif line.startswith("#"):  # a comment
\t\tcontinue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip(){TRAILING}
    query = """
        SELECT *
        FROM table -- 表
    """
    return {{**values, "query": query, "long": "{LONG}"}}


class Loader:
    \'\'\'Loads things.\'\'\'

    pattern = r"\\d+\\s*(?P<unit>ms|s)"

    def __repr__(self) -> str:
        return f"Loader({{self.pattern!r:>10}}) 😀"
''',
    "javascript": f"""/**
 * Debounce a function.
 * @param {{Function}} fn - what to call
 * @param {{number}} wait - milliseconds
 */
export function debounce(fn, wait = 100) {{
  let timer = null;
  const re = /ab+c\\/d/gi;
  return (...args) => {{
    clearTimeout(timer); // restart
    timer = setTimeout(() => fn(...args), wait);
    const s = `first line
      second ${{args.length}} line`;
    return "quote \\" inside" + '{LONG}';
  }};
}}
""",
    "typescript": """interface User<T extends object = {}> {
  id: number;
  name?: string; /* optional
                    and documented */
}

export class Store<T> implements Iterable<T> {
  private items: Map<string, T> = new Map();
  *[Symbol.iterator](): Iterator<T> {
    yield* this.items.values();
  }
}
""",
    "rust": f"""/// A parser.
/* block /* nested */ still comment
   done */
fn parse<'a>(input: &'a str) -> Result<Vec<&'a str>, String> {{
    let raw = r#"raw "string"
spanning lines"#;
    let b = b'x';
    let words: Vec<&str> = input.split_whitespace().collect();
    println!("{{}} {{}} {LONG}", raw, b);
    Ok(words)
}}
""",
    "go": """package main

import "fmt"

/* A block comment
   over lines. */
func main() {
\tquery := `SELECT *
FROM users`
\tfmt.Println(query, "done\\n") // 完成
}
""",
    "c": f"""#include <stdio.h>
#include <stdint.h>

/* Copy a buffer.
 * Returns the count.
 */
static size_t copy(uint8_t *dst, const uint8_t *src, size_t n) {{
    size_t i = 0;
    for (; i < n; i++) dst[i] = src[i]; // plain loop
    printf("%zu bytes\\n", i);
    return i; /* {LONG} */
}}

#define MAX(a, b) \\
    ((a) > (b) ? (a) : (b))
""",
    "cpp": """#include <vector>
#include <string>

template <typename T>
class Stack {
public:
    void push(const T& value) { items_.push_back(value); }
    std::string dump() const {
        return R"(raw
string)";
    }
private:
    std::vector<T> items_; /* the items
                              in order */
};
""",
    "java": """package demo;

/**
 * A greeter.
 */
public final class Greeter {
    @Override
    public String toString() {
        String block = \"\"\"
            Hello,
            World!
            \"\"\";
        return block + "\\t" + 'c';
    }
}
""",
    "bash": """#!/usr/bin/env bash
set -euo pipefail

cat <<EOF > config.ini
[server]
host = $HOST
EOF

for file in "$@"; do
\techo "processing ${file}" # progress
\tcount=$((count + 1))
done
echo 'single
quoted' "$(date +%s)"
""",
    "json": """{
  "name": "demo",
  "version": 1.5,
  "tags": ["a", "b", null, true],
  "nested": {"key": "value with \\"quotes\\" and \\u00e9"},
  "split key"
    : "colon on the next line",
  "empty": {}
}
""",
    "yaml": """# settings
server:
  host: example.org~~
  ports: [80, 443]
  motd: |
    Welcome!
      Indented line.
    Last line.
  folded: >
    one
    two
anchors:
  base: &base {a: 1}
  copy: *base
""".replace("~~", TRAILING),
    "html": """<!DOCTYPE html>
<html lang="en">
<head>
  <style>
    body { color: #333; } /* css
       comment */
  </style>
  <!-- a comment
       over lines -->
</head>
<body>
  <p class="note">Hello &amp; 你好</p>
  <script>
    const x = "</p>"; // js
  </script>
</body>
</html>
""",
    "css": """/* Theme
   colours */
:root {
  --accent: #ff5f00;
}

.button:hover,
.button:focus-visible {
  color: var(--accent);
  content: "quote \\" inside";
}
""",
    "sql": """-- report
/* monthly
   totals */
SELECT u.name, SUM(o.total) AS total
FROM users u
JOIN orders o ON o.user_id = u.id
WHERE o.note <> 'it''s
multi-line'
GROUP BY u.name;
""",
    "ruby": """# A greeter
class Greeter
  def initialize(name)
    @name = name
  end

=begin
A block comment
=end

  def greet
    puts "Hello, #{@name}!"
    %w[a b c].each { |x| print x }
  end
end
""",
    "diff": """diff --git a/app.py b/app.py
index 83db48f..bf269f4 100644
--- a/app.py
+++ b/app.py
@@ -1,4 +1,4 @@
 import os
-print("old")
+print("new")
 done
""",
    "text": f"""Plain text, drawn in one style.
\tTabs expand to four cells; 中文 takes two cells each.

{LONG}
""",
}

# Code whose lexers are not followed line by line: Ruby with a heredoc (its lexer jumps ahead).
RUBY_HEREDOC = """def page
  html = <<~HTML
    <p>#{title}</p>
  HTML
  html.strip
end
"""
