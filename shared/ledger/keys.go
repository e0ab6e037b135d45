package ledger

import (
	"crypto/sha256"
	"encoding/hex"
)

// The blob keys of one message are derived from its job and ledger key, so
// every stage (and a retry of it) finds the same objects. The ledger key is
// hashed because folder names may hold any character.

func digest(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:16])
}

// RawKey is the blob key of the raw MIME message.
func RawKey(jobID, key string) string { return "raw/" + jobID + "/" + digest(key) + ".eml" }

// NormKey is the blob key of the normalized message (JSON).
func NormKey(jobID, key string) string { return "norm/" + jobID + "/" + digest(key) + ".json" }

// AttachmentPrefix is the blob key prefix of the message's attachments.
func AttachmentPrefix(jobID, key string) string { return "att/" + jobID + "/" + digest(key) + "/" }

// ErrorDetailKey is the blob key of one part of the sealed details of a
// message moved to the error folder: name is reason.txt, headers.txt or
// message.eml.
func ErrorDetailKey(jobID, key, name string) string {
	return "err/" + jobID + "/" + digest(key) + "/" + name
}

// ConversationID is the id of the conversation a message becomes: derived
// from the message so that a retry writes the same conversation.
func ConversationID(jobID, key string) string {
	h := sha256.Sum256([]byte(jobID + "\x00" + key))
	return "c-" + hex.EncodeToString(h[:12])
}
