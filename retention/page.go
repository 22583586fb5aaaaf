package retention

func PageSize(field string, first *int, def, max int) (int, error) {
	if first == nil {
		return def, nil
	}
	if *first < 0 || *first > max {
		return 0, FieldErrorf(field, "%s must be between 0 and %d, got %d", field, max, *first)
	}
	return *first, nil
}

// Page is one page of a list, and whether another follows it.
type Page[T any] struct {
	Items       []T
	HasNextPage bool
}

// FetchPage reads one more item than asked to learn whether another page
// follows, and trims it.
func FetchPage[T any](n int, fetch func(n int) ([]T, error)) (Page[T], error) {
	if n == 0 {
		return Page[T]{Items: []T{}}, nil
	}
	items, err := fetch(n + 1)
	if err != nil {
		return Page[T]{}, err
	}
	if len(items) > n {
		return Page[T]{Items: items[:n], HasNextPage: true}, nil
	}
	return Page[T]{Items: items}, nil
}

func AfterValue(after *string) string {
	if after == nil {
		return ""
	}
	return *after
}
