"""Chinese text rules, one copy each: every stage reads numbers, widths, money and thresholds the same way.

- `width`: full-width forms folded (０ -> 0, ％ -> %), Chinese punctuation kept.
- `numerals`: 四亿, 1.5亿, 百分之五, 二〇二五, 第九十五条 read as numbers; 95 -> 九十五; figures found in text.
- `units`: money to 万元 and back (4个亿 -> 40000, 30000 -> 3亿元); quantities to one unit each.
- `thresholds`: 不超过/以上/未满… -> <=, >=, <; thresholds found in a sentence; compare().
- `facts`: the fact vocabulary (key, unit, label, question, aliases, cue words) from bot/data/facts.yaml.
- `injection`: wording that addresses a model (忽略之前的指令…), judged wherever a clause is made.

Nothing is imported here: importing `bot.text` costs nothing.
"""
