package eventstore

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"
)

// ParseHead reads a head written as POSITION:HASH (64 hex digits), as
// accessledger verify prints it and --expect-head takes it.
func ParseHead(s string) (Head, error) {
	pos, hash, ok := strings.Cut(s, ":")
	if !ok {
		return Head{}, invalidf("head %q is not POSITION:HASH", s)
	}
	p, err := strconv.ParseUint(pos, 10, 64)
	if err != nil || p > MaxPosition {
		return Head{}, invalidf("head %q: position %q is not a position", s, pos)
	}
	h, err := ParseHash(hash)
	if err != nil {
		return Head{}, invalidf("head %q: %v", s, err)
	}
	return Head{Position: Position(p), Hash: h}, nil
}

// headText writes a head as POSITION:HASH, the form ParseHead reads.
func headText(h Head) string {
	return strconv.FormatUint(uint64(h.Position), 10) + ":" + h.Hash.String()
}

// CheckHead checks that a log still holds head: the event at its position
// has its hash. A log truncated below the head, or rewritten at or below
// it, fails with a *ChainError at the head's position. The chain itself
// cannot see a cut at its end or a log rewritten and resealed from some
// point on; a head kept outside the log can.
func CheckHead(ctx context.Context, events func(ctx context.Context, after Position) iter.Seq2[Event, error], head Head) error {
	if head.Position == 0 {
		return nil
	}
	for e, err := range events(ctx, head.Position-1) {
		if err != nil {
			return err
		}
		if e.Position != head.Position || e.Hash != head.Hash {
			return &ChainError{Position: head.Position, Reason: fmt.Sprintf(
				"the log holds hash %s at position %d, not %s: it was rewritten, or it is not the log that head was taken from",
				e.Hash, e.Position, head.Hash)}
		}
		return nil
	}
	return &ChainError{Position: head.Position, Reason: "the log ends before this position: it was truncated, or it is another log"}
}

// SignedHead is a head of the log signed by whoever recorded it, with the
// time they did: a checkpoint to keep outside the log, against which the
// log can be checked later with CheckHead.
type SignedHead struct {
	Head
	Time      time.Time
	Signature []byte
}

// ErrSignature matches the error of SignedHead.Verify on a signature that
// does not verify.
var ErrSignature = errors.New("eventstore: the signature does not verify")

// message is what a SignedHead's signature covers.
func (s SignedHead) message() []byte {
	return []byte("accessledger-head/1 " + headText(s.Head) + " " + s.Time.UTC().Format(TimeLayout))
}

// SignHead signs head at time at with key.
func SignHead(key ed25519.PrivateKey, head Head, at time.Time) SignedHead {
	s := SignedHead{Head: head, Time: at.UTC()}
	s.Signature = ed25519.Sign(key, s.message())
	return s
}

// Verify checks the signature with the signer's public key.
func (s SignedHead) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, s.message(), s.Signature) {
		return fmt.Errorf("%w: head %s signed at %s", ErrSignature, headText(s.Head), s.Time.Format(time.RFC3339))
	}
	return nil
}

// String writes the signed head as POSITION:HASH:TIME:SIGNATURE (the time
// as TimeLayout, the signature in hex), on one line.
func (s SignedHead) String() string {
	return headText(s.Head) + ":" + s.Time.UTC().Format(TimeLayout) + ":" + hex.EncodeToString(s.Signature)
}

// ParseSignedHead reads what SignedHead.String writes. It does not verify
// the signature.
func ParseSignedHead(text string) (SignedHead, error) {
	parts := strings.Split(strings.TrimSpace(text), ":")
	// The time has colons of its own: POSITION:HASH:HH:MM:SS…:SIGNATURE.
	if len(parts) != 6 {
		return SignedHead{}, invalidf("signed head %q is not POSITION:HASH:TIME:SIGNATURE", text)
	}
	h, err := ParseHead(parts[0] + ":" + parts[1])
	if err != nil {
		return SignedHead{}, err
	}
	at, err := time.Parse(TimeLayout, strings.Join(parts[2:5], ":"))
	if err != nil {
		return SignedHead{}, invalidf("signed head %q: time: %v", text, err)
	}
	sig, err := hex.DecodeString(parts[5])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return SignedHead{}, invalidf("signed head %q: the signature is not %d bytes of hex", text, ed25519.SignatureSize)
	}
	return SignedHead{Head: h, Time: at, Signature: sig}, nil
}
