// macho-sign: ad-hoc code signing of the darwin release binaries, offline, and an independent check
// of the result. Apple Silicon kills any arm64 executable without a valid signature, and injecting the
// SEA blob removes Node's own; `codesign` exists only on macOS, so the release build signs here.
//
//	macho-sign sign   --id ID FILE   ad-hoc sign FILE in place (github.com/blacktop/go-macho)
//	macho-sign verify FILE           check FILE's ad-hoc signature and SEA segment; prints a JSON summary
//	macho-sign verify-hashes FILE    only check that FILE's signature, whoever made it, matches FILE
//
// `verify` does not use the signer's code: it reads the load commands with Go's debug/macho and
// re-hashes every page itself, so a signer bug cannot vouch for its own output. `verify-hashes`
// accepts Apple's own signatures (of the official Node binaries, say): that is how the checker
// itself is checked against codesign's output.
package main

import (
	"bytes"
	"crypto/sha256"
	"debug/macho"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	gomacho "github.com/blacktop/go-macho"
	"github.com/blacktop/go-macho/pkg/codesign"
	cstypes "github.com/blacktop/go-macho/pkg/codesign/types"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "macho-sign:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 4 && args[0] == "sign" && args[1] == "--id":
		return sign(args[3], args[2])
	case len(args) == 2 && (args[0] == "verify" || args[0] == "verify-hashes"):
		summary, err := verify(args[1], args[0] == "verify")
		if err != nil {
			return fmt.Errorf("%s: %w", args[1], err)
		}
		out, _ := json.MarshalIndent(summary, "", "  ")
		fmt.Println(string(out))
		return nil
	default:
		return errors.New("usage: macho-sign sign --id ID FILE | macho-sign verify FILE | macho-sign verify-hashes FILE")
	}
}

func sign(path, id string) error {
	original, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	f, err := gomacho.NewFile(bytes.NewReader(original))
	if err != nil {
		return err
	}
	if err := f.CodeSign(&codesign.Config{ID: id, Flags: cstypes.ADHOC}); err != nil {
		return fmt.Errorf("signing %s: %w", path, err)
	}
	// go-macho's Save lays segments end to end, dropping the padding between them (postject leaves
	// the NODE_SEA segment short of a page), which shifts __LINKEDIT. Reassemble instead: the new
	// header and load commands, the original bytes up to __LINKEDIT, then the new __LINKEDIT, i.e.
	// exactly the layout CodeSign hashed.
	var rewritten bytes.Buffer
	if err := f.SaveBuffer(&rewritten); err != nil {
		return err
	}
	linkedit := f.Segment("__LINKEDIT")
	headerEnd := uint64(binary.Size(f.FileHeader)) + uint64(f.SizeCommands)
	out := rewritten.Bytes()
	if uint64(len(out)) < linkedit.Filesz || headerEnd > linkedit.Offset {
		return errors.New("unexpected layout after signing")
	}
	signed := make([]byte, 0, linkedit.Offset+linkedit.Filesz)
	signed = append(signed, out[:headerEnd]...)
	signed = append(signed, original[headerEnd:linkedit.Offset]...)
	signed = append(signed, out[uint64(len(out))-linkedit.Filesz:]...)
	tmp := path + ".signed"
	if err := os.WriteFile(tmp, signed, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Code signature blob magics and slots (xnu osfmk/kern/cs_blobs.h).
const (
	lcCodeSignature     = 0x1d
	magicEmbedded       = 0xfade0cc0
	magicCodeDirectory  = 0xfade0c02
	slotCodeDirectory   = 0
	slotCMSSignature    = 0x10000
	flagAdhoc           = 0x2
	hashTypeSHA256      = 2
	seaSegmentName      = "NODE_SEA"
	codeDirectoryMinLen = 88 // through execSegFlags (version 0x20400)
)

type Summary struct {
	CPU             string `json:"cpu"`
	Identifier      string `json:"identifier"`
	Adhoc           bool   `json:"adhoc"`
	PagesVerified   uint32 `json:"pagesVerified"`
	CodeLimit       uint32 `json:"codeLimit"`
	SpecialSlots    int    `json:"specialSlotsVerified"`
	SEASegmentBytes uint64 `json:"seaSegmentBytes"`
}

// verify checks FILE's code signature against FILE; adhocSEA also requires an ad-hoc signature and
// the injected NODE_SEA segment, as the release's darwin binaries have.
func verify(path string, adhocSEA bool) (*Summary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := macho.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	summary := &Summary{CPU: f.Cpu.String()}

	if sea := f.Segment(seaSegmentName); sea != nil {
		summary.SEASegmentBytes = sea.Filesz
	}
	if adhocSEA && summary.SEASegmentBytes == 0 {
		return nil, errors.New("no NODE_SEA segment: the SEA blob was not injected")
	}
	text := f.Segment("__TEXT")
	linkedit := f.Segment("__LINKEDIT")
	if text == nil || linkedit == nil {
		return nil, errors.New("no __TEXT or __LINKEDIT segment")
	}

	var sigOffset, sigSize uint32
	for _, load := range f.Loads {
		raw := load.Raw()
		if len(raw) >= 16 && binary.LittleEndian.Uint32(raw) == lcCodeSignature {
			sigOffset, sigSize = binary.LittleEndian.Uint32(raw[8:]), binary.LittleEndian.Uint32(raw[12:])
		}
	}
	if sigSize == 0 {
		return nil, errors.New("not signed: no LC_CODE_SIGNATURE")
	}
	if uint64(sigOffset) < linkedit.Offset || uint64(sigOffset)+uint64(sigSize) > linkedit.Offset+linkedit.Filesz ||
		uint64(sigOffset)+uint64(sigSize) > uint64(len(data)) {
		return nil, errors.New("the code signature lies outside __LINKEDIT or the file")
	}
	blob := data[sigOffset : sigOffset+sigSize]
	be := binary.BigEndian
	if be.Uint32(blob) != magicEmbedded {
		return nil, fmt.Errorf("signature magic %#x, want embedded signature %#x", be.Uint32(blob), magicEmbedded)
	}

	slots := map[uint32][]byte{}
	count := be.Uint32(blob[8:])
	for i := uint32(0); i < count; i++ {
		entry := blob[12+8*i:]
		slot, offset := be.Uint32(entry), be.Uint32(entry[4:])
		if uint64(offset)+8 > uint64(len(blob)) || uint64(offset)+uint64(be.Uint32(blob[offset+4:])) > uint64(len(blob)) {
			return nil, fmt.Errorf("blob %d runs past the signature", slot)
		}
		slots[slot] = blob[offset : offset+be.Uint32(blob[offset+4:])]
	}
	cd := slots[slotCodeDirectory]
	if len(cd) < codeDirectoryMinLen || be.Uint32(cd) != magicCodeDirectory {
		return nil, errors.New("no code directory")
	}
	flags, hashOffset, identOffset := be.Uint32(cd[12:]), be.Uint32(cd[16:]), be.Uint32(cd[20:])
	nSpecial, nCode, codeLimit := be.Uint32(cd[24:]), be.Uint32(cd[28:]), be.Uint32(cd[32:])
	hashSize, hashType, pageShift := uint32(cd[36]), cd[37], cd[39]
	execSegBase, execSegLimit := be.Uint64(cd[64:]), be.Uint64(cd[72:])
	summary.Identifier = cString(cd[identOffset:])
	summary.Adhoc = flags&flagAdhoc != 0
	summary.CodeLimit = codeLimit
	if adhocSEA && !summary.Adhoc {
		return nil, fmt.Errorf("code directory flags %#x: not ad-hoc", flags)
	}
	if hashType != hashTypeSHA256 || hashSize != sha256.Size || pageShift != 12 {
		return nil, fmt.Errorf("hash type %d size %d page 2^%d: want SHA-256 over 4 KiB pages", hashType, hashSize, pageShift)
	}
	if codeLimit != sigOffset {
		return nil, fmt.Errorf("code limit %d does not reach the signature at %d", codeLimit, sigOffset)
	}
	if execSegBase != text.Offset || execSegLimit != text.Filesz {
		return nil, fmt.Errorf("executable segment %d+%d is not __TEXT %d+%d", execSegBase, execSegLimit, text.Offset, text.Filesz)
	}
	const page = 4096
	if want := (codeLimit + page - 1) / page; nCode != want {
		return nil, fmt.Errorf("%d code slots for %d bytes, want %d", nCode, codeLimit, want)
	}
	for i := uint32(0); i < nCode; i++ {
		end := min((i+1)*page, codeLimit)
		sum := sha256.Sum256(data[i*page : end])
		stored := cd[hashOffset+i*hashSize : hashOffset+(i+1)*hashSize]
		if !bytes.Equal(sum[:], stored) {
			return nil, fmt.Errorf("page %d (offset %#x) does not match its hash: the file changed after signing", i, i*page)
		}
	}
	summary.PagesVerified = nCode

	// Special slots (requirements, entitlements...) bind the other blobs; zero means unbound.
	for slot := uint32(1); slot <= nSpecial; slot++ {
		stored := cd[hashOffset-slot*hashSize : hashOffset-(slot-1)*hashSize]
		bound, present := slots[slot]
		if bytes.Equal(stored, make([]byte, hashSize)) {
			continue
		}
		if present {
			sum := sha256.Sum256(bound)
			if !bytes.Equal(sum[:], stored) {
				return nil, fmt.Errorf("special slot %d does not match its blob", slot)
			}
			summary.SpecialSlots++
		}
	}
	if cms, ok := slots[slotCMSSignature]; adhocSEA && ok && len(cms) > 8 {
		return nil, errors.New("carries a CMS signature: not an ad-hoc signature")
	}
	return summary, nil
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}
