// Package workpool runs a numbered set of calls on a bounded number of
// goroutines: the fan-out the fetch stage and the DynamoDB store use for
// independent reads and writes whose latency, not CPU, bounds a run.
package workpool

import "sync"

// Each calls fn(i) for every i in [0, n) on at most workers goroutines
// and returns once every call has returned. One call (n <= 1) runs on the
// caller's goroutine. fn must be safe for concurrent use; each i is passed
// exactly once, in no promised order.
func Each(n, workers int, fn func(i int)) {
	if n <= 1 || workers <= 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
