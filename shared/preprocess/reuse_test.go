package preprocess

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
)

// TestReadersReusedAcrossMessages: the header readers kept for the next
// message carry nothing over. Messages of the generated mix (long and
// short, with and without attachments) processed four at a time, each
// twice in different company, give what each gives processed alone.
func TestReadersReusedAcrossMessages(t *testing.T) {
	msgs, _ := benchMailbox(t, 40)
	j := testJob()
	process := func(raw []byte) string {
		m, err := Process(context.Background(), bytesReader(raw), &Options{Job: j, Blobs: newMemStore(), KeyPrefix: "att/reuse/"})
		if err != nil {
			t.Errorf("process: %v", err)
			return ""
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	alone := make([]string, len(msgs))
	for i, raw := range msgs {
		alone[i] = process(raw)
	}
	for round := 0; round < 2; round++ {
		got := make([]string, len(msgs))
		next := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					got[i] = process(msgs[i])
				}
			}()
		}
		for k := range msgs {
			i := k
			if round == 1 {
				i = len(msgs) - 1 - k // the other way round
			}
			next <- i
		}
		close(next)
		wg.Wait()
		for i := range msgs {
			if got[i] != alone[i] {
				t.Errorf("round %d, message %d: differs from the same message processed alone", round, i)
			}
		}
	}
}
