// Command gocheck authenticates a Glass Pocket log export (a C2SP checkpoint and
// C2SP tlog-tiles of height 8) with nothing but Go's golang.org/x/mod/sumdb/note
// and golang.org/x/mod/sumdb/tlog, the way SPEC sections 3 and 4 say it will be checked.
//
// Usage:
//
//	gocheck <export-dir or http(s) URL> <log-vkey> [--older <checkpoint file>]
//	gocheck --receipt <file.tlog-proof> <log-vkey>
//
// With --receipt it checks a C2SP tlog-proof (a resident's receipt, SPEC section 5) the
// way any tlog-proof verifier would: it opens the proof's checkpoint with the log key,
// hashes the extra line's bytes with tlog.RecordHash, and checks the inclusion proof
// with tlog.CheckRecord against the checkpoint's size and root.
//
// The log is read from an export directory or, given a URL such as
// http://host/c/demo/log, over HTTP with net/http (GET <url>/checkpoint,
// <url>/tile/...), the way a Go client of a served log reads it.
//
// It opens <export-dir>/checkpoint with the log key (witness cosignatures are
// unknown signers, which note.Open lists in UnverifiedSigs and we ignore) and
// parses its body (origin = the key's name, size, root; no extension lines). Then:
//
//  1. it rebuilds the tree from the entry bundles with tlog.StoredHashesForRecordHash,
//     checks tlog.TreeHash against the signed root, and checks every hash tile file
//     byte for byte against tlog.ReadTileData of that tree;
//  2. it reads every leaf hash through tlog.TileHashReader, as a Go client would,
//     and compares it with tlog.RecordHash of the entry;
//  3. it checks one inclusion proof (ProveRecord/CheckRecord) and, with --older,
//     a consistency proof from an older checkpoint of the log (ProveTree/CheckTree).
//
// Step 1 matters: in x/mod 0.7.0, TileHashReader leaves some fetched tiles
// unauthenticated when several subtree hashes of the tree size share a tile
// (its loop starts at len(stx), a count of hashes, not of tiles), so step 2 alone
// accepts an entry replaced together with its leaf hash in a full level-0 tile.
//
// It prints "ok origin=<o> size=<n> entries=<n>" and exits 0, or prints
// "FAIL: <reason>" and exits 1 (2 for bad usage).
//
// Build offline in GOPATH mode against Debian's golang-golang-x-mod-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o gocheck main.go
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8 // C2SP tlog-tiles: 256 hashes (or entries) per full tile

// tilePath maps x/mod's Tile to the C2SP tlog-tiles layout. x/mod's own
// Tile.Path() is "tile/<H>/<L>/..." with "data" for L = -1; C2SP has no height
// element and calls the data level "entries".
func tilePath(t tlog.Tile) string {
	n := t.N
	nStr := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		nStr = fmt.Sprintf("x%03d/%s", n%1000, nStr)
	}
	level := strconv.Itoa(t.L)
	if t.L == -1 {
		level = "entries"
	}
	p := "tile/" + level + "/" + nStr
	if t.W != 1<<height {
		p += ".p/" + strconv.Itoa(t.W)
	}
	return p
}

// dirTiles is a tlog.TileReader over an export directory or an HTTP(S) base URL.
type dirTiles string

func (d dirTiles) Height() int { return height }

func (d dirTiles) read(t tlog.Tile) ([]byte, error) {
	return d.get(tilePath(t))
}

// get reads one published file: from the directory, or with an HTTP GET that must
// answer 200.
func (d dirTiles) get(rel string) ([]byte, error) {
	base := string(d)
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return os.ReadFile(filepath.Join(base, filepath.FromSlash(rel)))
	}
	url := strings.TrimSuffix(base, "/") + "/" + rel
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := d.read(t)
		if err != nil {
			return nil, err
		}
		if len(b) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("%s: %d bytes, want %d", tilePath(t), len(b), t.W*tlog.HashSize)
		}
		data[i] = b
	}
	return data, nil
}

func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// openCheckpoint verifies the log's signature on a C2SP checkpoint and parses its body.
func openCheckpoint(msg []byte, v note.Verifier) (tlog.Tree, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("checkpoint signature: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) != 3 {
		return tlog.Tree{}, fmt.Errorf("checkpoint body has %d lines, want 3 (origin, size, root; no extensions)", len(lines))
	}
	if lines[0] != v.Name() {
		return tlog.Tree{}, fmt.Errorf("checkpoint origin %q is not the log key's name %q", lines[0], v.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || lines[1] != strconv.FormatInt(size, 10) {
		return tlog.Tree{}, fmt.Errorf("checkpoint size %q is not a canonical decimal", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return tlog.Tree{}, fmt.Errorf("checkpoint root %q is not base64 of 32 bytes", lines[2])
	}
	tree := tlog.Tree{N: size}
	copy(tree.Hash[:], root)
	return tree, nil
}

// splitBundle splits a C2SP entry bundle into its uint16-length-prefixed entries.
func splitBundle(b []byte) ([][]byte, error) {
	var entries [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("truncated length prefix")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, fmt.Errorf("entry %d truncated: need %d bytes, have %d", len(entries), n, len(b)-2)
		}
		entries = append(entries, b[2:2+n])
		b = b[2+n:]
	}
	return entries, nil
}

// hashStore is an in-memory tlog.HashReader over every stored hash of a tree,
// built from the entries with x/mod's own StoredHashesForRecordHash.
type hashStore []tlog.Hash

func (s hashStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(s)) {
			return nil, fmt.Errorf("stored hash %d not in tree", x)
		}
		out[i] = s[x]
	}
	return out, nil
}

func check(dir, vkey, olderFile string) (string, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return "", fmt.Errorf("log vkey: %v", err)
	}
	msg, err := dirTiles(dir).get("checkpoint")
	if err != nil {
		return "", err
	}
	tree, err := openCheckpoint(msg, v)
	if err != nil {
		return "", err
	}
	if tree.N == 0 {
		// x/mod defines the empty tree's hash as all zeros; RFC 6962 says SHA-256("").
		if tree.Hash != tlog.Hash(sha256.Sum256(nil)) {
			return "", fmt.Errorf("empty tree root is not SHA-256 of the empty string")
		}
		return fmt.Sprintf("ok origin=%s size=0 entries=0", v.Name()), nil
	}

	// 1. Rebuild the tree from the entry bundles alone and compare it with the
	// signed root and with every hash tile, byte for byte. (This does not rely on
	// TileHashReader, which in x/mod 0.7.0 skips authenticating some tiles.)
	tiles := dirTiles(dir)
	var store hashStore
	for b := int64(0); b<<height < tree.N; b++ {
		bt := tlog.Tile{H: height, L: -1, N: b, W: int(min64(1<<height, tree.N-b<<height))}
		data, err := tiles.read(bt)
		if err != nil {
			return "", err
		}
		entries, err := splitBundle(data)
		if err != nil {
			return "", fmt.Errorf("%s: %v", tilePath(bt), err)
		}
		if len(entries) != bt.W {
			return "", fmt.Errorf("%s: %d entries, want %d", tilePath(bt), len(entries), bt.W)
		}
		for k, e := range entries {
			hs, err := tlog.StoredHashesForRecordHash(b<<height+int64(k), tlog.RecordHash(e), store)
			if err != nil {
				return "", err
			}
			store = append(store, hs...)
		}
	}
	th, err := tlog.TreeHash(tree.N, store)
	if err != nil {
		return "", err
	}
	if th != tree.Hash {
		return "", fmt.Errorf("the entry bundles hash to root %v, not the checkpoint's %v", th, tree.Hash)
	}
	for level := 0; tree.N>>(level*height) > 0; level++ {
		count := tree.N >> (level * height)
		for n := int64(0); n<<height < count; n++ {
			t := tlog.Tile{H: height, L: level, N: n, W: int(min64(1<<height, count-n<<height))}
			want, err := tlog.ReadTileData(t, store)
			if err != nil {
				return "", err
			}
			got, err := tiles.read(t)
			if err != nil {
				return "", err
			}
			if !bytes.Equal(got, want) {
				return "", fmt.Errorf("%s does not match the tree of the entry bundles", tilePath(t))
			}
		}
	}

	// 2. Read the log as a Go tlog client would: every leaf hash through
	// TileHashReader, authenticated against the signed root.
	hr := tlog.TileHashReader(tree, tiles)
	if th, err = tlog.TreeHash(tree.N, hr); err != nil {
		return "", fmt.Errorf("tree hash through TileHashReader: %v", err)
	}
	if th != tree.Hash {
		return "", fmt.Errorf("tree hash through TileHashReader %v != checkpoint root %v", th, tree.Hash)
	}
	for first := int64(0); first < tree.N; first += 1 << height {
		indexes := make([]int64, min64(1<<height, tree.N-first))
		for k := range indexes {
			indexes[k] = tlog.StoredHashIndex(0, first+int64(k))
		}
		leaves, err := hr.ReadHashes(indexes)
		if err != nil {
			return "", fmt.Errorf("leaf hashes from %d: %v", first, err)
		}
		for k, h := range leaves {
			if h != store[indexes[k]] {
				return "", fmt.Errorf("entry %d: record hash %v != leaf hash %v", first+int64(k), store[indexes[k]], h)
			}
		}
	}

	// 3. One inclusion proof, built from the tiles and checked against the root.
	probe := tree.N / 2
	p, err := tlog.ProveRecord(tree.N, probe, hr)
	if err == nil {
		err = tlog.CheckRecord(p, tree.N, tree.Hash, probe, store[tlog.StoredHashIndex(0, probe)])
	}
	if err != nil {
		return "", fmt.Errorf("inclusion proof for %d: %v", probe, err)
	}
	summary := fmt.Sprintf("ok origin=%s size=%d entries=%d", v.Name(), tree.N, tree.N)

	// 4. With --older, a consistency proof from an older checkpoint of this log.
	if olderFile != "" {
		omsg, err := os.ReadFile(olderFile)
		if err != nil {
			return "", err
		}
		old, err := openCheckpoint(omsg, v)
		if err != nil {
			return "", fmt.Errorf("older %v", err)
		}
		switch {
		case old.N > tree.N:
			return "", fmt.Errorf("older checkpoint size %d > %d", old.N, tree.N)
		case old.N == 0:
			if old.Hash != tlog.Hash(sha256.Sum256(nil)) {
				return "", fmt.Errorf("older empty tree root is not SHA-256 of the empty string")
			}
		default:
			tp, err := tlog.ProveTree(tree.N, old.N, hr)
			if err == nil {
				err = tlog.CheckTree(tp, tree.N, tree.Hash, old.N, old.Hash)
			}
			if err != nil {
				return "", fmt.Errorf("consistency proof %d -> %d: %v", old.N, tree.N, err)
			}
		}
		summary += fmt.Sprintf(" consistent-from=%d", old.N)
	}
	return summary, nil
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

// checkReceipt checks a C2SP tlog-proof file: header, extra, index, hashes, blank
// line, then the signed checkpoint note.
func checkReceipt(file, vkey string) (string, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return "", fmt.Errorf("log vkey: %v", err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	head, checkpoint, found := strings.Cut(string(data), "\n\n")
	if !found {
		return "", fmt.Errorf("no blank line before the checkpoint")
	}
	lines := strings.Split(head, "\n")
	if len(lines) < 3 || lines[0] != "c2sp.org/tlog-proof@v1" {
		return "", fmt.Errorf("not a c2sp.org/tlog-proof@v1 file")
	}
	extraText := strings.TrimPrefix(lines[1], "extra ")
	if !strings.HasPrefix(lines[1], "extra ") {
		return "", fmt.Errorf("no extra line (the entry)")
	}
	extra, err := base64.StdEncoding.DecodeString(extraText)
	if err != nil {
		return "", fmt.Errorf("extra is not base64: %v", err)
	}
	index, perr := strconv.ParseInt(strings.TrimPrefix(lines[2], "index "), 10, 64)
	if !strings.HasPrefix(lines[2], "index ") || perr != nil {
		return "", fmt.Errorf("bad index line %q", lines[2])
	}
	var proof tlog.RecordProof
	for _, line := range lines[3:] {
		h, err := base64.StdEncoding.DecodeString(line)
		if err != nil || len(h) != tlog.HashSize {
			return "", fmt.Errorf("proof hash %q is not base64 of 32 bytes", line)
		}
		var hash tlog.Hash
		copy(hash[:], h)
		proof = append(proof, hash)
	}
	tree, err := openCheckpoint([]byte(checkpoint), v)
	if err != nil {
		return "", err
	}
	if err := tlog.CheckRecord(proof, tree.N, tree.Hash, index, tlog.RecordHash(extra)); err != nil {
		return "", fmt.Errorf("inclusion proof: %v", err)
	}
	return fmt.Sprintf("ok receipt index=%d size=%d", index, tree.N), nil
}

func main() {
	var pos []string
	older := ""
	receipt := false
	for args := os.Args[1:]; len(args) > 0; args = args[1:] {
		if args[0] == "--older" && len(args) > 1 {
			older, args = args[1], args[1:]
			continue
		}
		if args[0] == "--receipt" {
			receipt = true
			continue
		}
		pos = append(pos, args[0])
	}
	if receipt && len(pos) == 2 {
		summary, err := checkReceipt(pos[0], pos[1])
		if err != nil {
			fmt.Println("FAIL:", err)
			os.Exit(1)
		}
		fmt.Println(summary)
		return
	}
	if len(pos) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gocheck <export-dir or URL> <log-vkey> [--older <checkpoint file>]")
		os.Exit(2)
	}
	summary, err := check(pos[0], pos[1], older)
	if err != nil {
		fmt.Println("FAIL:", err)
		os.Exit(1)
	}
	fmt.Println(summary)
}
