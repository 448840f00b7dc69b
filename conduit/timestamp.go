package conduit

import "time"

// TimestampLayout is how both surfaces write a time: UTC with exactly three
// fractional digits, the format the Conduit clients have always read (the
// database keeps milliseconds).
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// AppendTimestamp appends t as TimestampLayout writes it. It writes the
// digits itself: time.Time.AppendFormat reads its layout anew at each call,
// about 105 ns a time against 20 here, and a page of 20 comments or
// articles writes 40 of them. A year outside 0 to 9999, which the layout
// does not write in four digits, goes to AppendFormat.
func AppendTimestamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, TimestampLayout)
	}
	hour, minute, second := t.Clock()
	ms := t.Nanosecond() / int(time.Millisecond)
	return append(b,
		digit(year/1000), digit(year/100), digit(year/10), digit(year), '-',
		digit(int(month)/10), digit(int(month)), '-',
		digit(day/10), digit(day), 'T',
		digit(hour/10), digit(hour), ':',
		digit(minute/10), digit(minute), ':',
		digit(second/10), digit(second), '.',
		digit(ms/100), digit(ms/10), digit(ms), 'Z')
}

// digit is the last decimal digit of n, which is not negative.
func digit(n int) byte { return byte('0' + n%10) }
