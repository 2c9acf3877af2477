#!/bin/sh
# Turn data/nicknames.csv (name1,relationship,name2; Apache-2.0, see
# data/nicknames.LICENSE) into the INSERT that seeds cdp.nickname.
set -eu
echo "-- Seed of cdp.nickname, generated from data/nicknames.csv (carltonnorthern/nicknames, Apache-2.0)."
echo "INSERT INTO @extschema@.nickname (name, nickname, source) VALUES"
awk -F, 'NR > 1 && $2 == "has_nickname" {
  gsub(/\r/, "", $3); gsub(/'"'"'/, "'"''"'", $1); gsub(/'"'"'/, "'"''"'", $3);
  if (n++) printf ",\n";
  printf "  ('"'"'%s'"'"', '"'"'%s'"'"', '"'"'builtin'"'"')", tolower($1), tolower($3)
} END { print "\nON CONFLICT DO NOTHING;" }' "$1"
