import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  extractReply,
  extractReplyFromHtml,
  extractReplyFromText,
  htmlToPlainText,
  type ExtractedReply,
} from '../../src/inbound/extract-reply.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const REPLIES = path.join(FIXTURES, 'replies');
const HTML_REPLIES = path.join(FIXTURES, 'html-replies');

function readFixture(directory: string, name: string): string {
  return readFileSync(path.join(directory, name), 'utf8');
}

/** The fixture body with line endings and trailing spaces normalized, as the extractor returns kept text. */
function normalizeBody(body: string): string {
  return body
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}

/** Checks that no quoted line, attribution or signature delimiter is left in the extracted text. */
function expectNoQuoteLeft(reply: ExtractedReply, context: string): void {
  const lines = reply.text.split('\n').map((line) => line.trim());
  expect(lines.filter((line) => line.startsWith('>')), context).toEqual([]);
  expect(lines.filter((line) => /wrote:?$/i.test(line)), context).toEqual([]);
  expect(lines.filter((line) => line === '--'), context).toEqual([]);
}

/** The new text that most corpus fixtures have above their quote or signature. */
const LOREM_REPLY = [
  'Fusce bibendum, quam hendrerit sagittis tempor, dui turpis tempus erat, pharetra sodales ante sem sit amet metus.',
  'Nulla malesuada, orci non vulputate lobortis, massa felis pharetra ex, convallis consectetur ex libero eget ante.',
  'Nam vel turpis posuere, rhoncus ligula in, venenatis orci. Duis interdum venenatis ex a rutrum.',
  'Duis ut libero eu lectus consequat consequat ut vel lorem. Vestibulum convallis lectus urna,',
  'et mollis ligula rutrum quis. Fusce sed odio id arcu varius aliquet nec nec nibh.',
].join('\n');

/** Marks a fixture that is new text from top to bottom: nothing may be removed. */
const WHOLE_BODY = 'whole body';

interface ReplyCase {
  file: string;
  /** The new text a person would read, or WHOLE_BODY. */
  expected: string;
  /** What makes the fixture hard, shown when the case fails. */
  note?: string;
}

// Expected new text for every corpus fixture, decided by reading each one.
const REPLY_CASES: ReplyCase[] = [
  { file: 'correct_sig.txt', expected: "this is an email with a correct -- signature." },
  { file: 'email_1.txt', expected: [
      "Hi folks",
      "",
      "What is the best way to clear a Riak bucket of all key, values after",
      "running a test?",
      "I am currently using the Java HTTP API.",
      "",
      "-Abhishek Kona",
    ].join('\n') },
  { file: 'email_2_1.txt', expected: "Outlook with a reply" },
  { file: 'email_2.txt', expected: [
      "Hi,",
      "",
      "You can list the keys for the bucket and call delete for each. Or if you",
      "put the keys (and kept track of them in your test) you can delete them",
      "one at a time (without incurring the cost of calling list first.)",
      "",
      "Something like:",
      "",
      "        String bucket = \"my_bucket\";",
      "        BucketResponse bucketResponse = riakClient.listBucket(bucket);",
      "        RiakBucketInfo bucketInfo = bucketResponse.getBucketInfo();",
      "",
      "        for(String key : bucketInfo.getKeys()) {",
      "            riakClient.delete(bucket, key);",
      "        }",
      "",
      "",
      "would do it.",
      "",
      "See also",
      "",
      "http://wiki.basho.com/REST-API.html#Bucket-operations",
      "",
      "which says",
      "",
      "\"At the moment there is no straightforward way to delete an entire",
      "Bucket. There is, however, an open ticket for the feature. To delete all",
      "the keys in a bucket, you’ll need to delete them all individually.\"",
    ].join('\n'), note: "bottom-posted reply between quotes; the list footer goes" },
  { file: 'email_3.txt', expected: [
      "Oh thanks.",
      "",
      "Having the function would be great.",
      "",
      "-Abhishek Kona",
    ].join('\n') },
  { file: 'email_4.txt', expected: "Awesome! I haven't had another problem with it." },
  { file: 'email_5.txt', expected: WHOLE_BODY, note: "bullets only, nothing quoted" },
  { file: 'email_6.txt', expected: "I get proper rendering as well.", note: "'Sent a magnificent torch of pixels' is a phone tagline above the quote" },
  { file: 'email_7.txt', expected: LOREM_REPLY, note: "quoted lines wrapped without '>' and a '-- ' disclaimer" },
  { file: 'email_8.txt', expected: LOREM_REPLY, note: "Dutch attribution wrapped before the address" },
  { file: 'email_9.txt', expected: LOREM_REPLY, note: "French header block under a '====' rule" },
  { file: 'email_10.txt', expected: LOREM_REPLY },
  { file: 'email_11.txt', expected: LOREM_REPLY },
  { file: 'email_12.txt', expected: LOREM_REPLY },
  { file: 'email_13.txt', expected: LOREM_REPLY },
  { file: 'email_14.txt', expected: LOREM_REPLY },
  { file: 'email_15.txt', expected: LOREM_REPLY, note: "'Sent from my ...' above an unmarked original" },
  { file: 'email_16.txt', expected: LOREM_REPLY },
  { file: 'email_17.txt', expected: LOREM_REPLY },
  { file: 'email_18.txt', expected: LOREM_REPLY },
  { file: 'email_19.txt', expected: "On Thursday, I get proper rendering.", note: "a line starting with 'On' stays" },
  { file: 'email_20.txt', expected: "On Thursday." },
  { file: 'email_21.txt', expected: WHOLE_BODY, note: "many 'On Thursday:' lines that are no attribution" },
  { file: 'email_22.txt', expected: LOREM_REPLY },
  { file: 'email_23.txt', expected: LOREM_REPLY },
  { file: 'email_24.txt', expected: LOREM_REPLY },
  { file: 'email_25.txt', expected: LOREM_REPLY },
  { file: 'email_26.txt', expected: LOREM_REPLY },
  { file: 'email_blackberry.txt', expected: "Here is another email" },
  { file: 'email_bullets.txt', expected: [
      "test 2 this should list second",
      "",
      "and have spaces",
      "",
      "and retain this formatting",
      "",
      "",
      "   - how about bullets",
      "   - and another",
    ].join('\n'), note: "two blank lines in the reply stay" },
  { file: 'email_custom_quote_header.txt', expected: "Thank you!" },
  { file: 'email_customer_quote_header_2.txt', expected: "Thank you very much." },
  { file: 'email_customer_quote_header_3.txt', expected: [
      "bonjour,",
      "je n'ai pas eu de retour sur ma précision..",
      "merci d'avance",
    ].join('\n') },
  { file: 'email_danish_dash_separator.txt', expected: LOREM_REPLY },
  { file: 'email_emoji.txt', expected: "🎉", note: "an em-dash rule opens the signature" },
  { file: 'email_en_multiline_2.txt', expected: LOREM_REPLY },
  { file: 'email_finnish.txt', expected: LOREM_REPLY },
  { file: 'email_fr_multiline.txt', expected: LOREM_REPLY },
  { file: 'email_french_2.txt', expected: LOREM_REPLY },
  { file: 'email_french_dash_separator.txt', expected: LOREM_REPLY },
  { file: 'email_german_2.txt', expected: LOREM_REPLY },
  { file: 'email_german_3.txt', expected: LOREM_REPLY },
  { file: 'email_german_outlook.txt', expected: LOREM_REPLY },
  { file: 'email_german.txt', expected: LOREM_REPLY },
  { file: 'email_gmail_split_line_from.txt', expected: LOREM_REPLY },
  { file: 'email_ios_outlook_fr.txt', expected: LOREM_REPLY },
  { file: 'email_ios_outlook.txt', expected: LOREM_REPLY },
  { file: 'email_iphone.txt', expected: "Here is another email" },
  { file: 'email_italian.txt', expected: LOREM_REPLY },
  { file: 'email_msn.txt', expected: LOREM_REPLY },
  { file: 'email_multi_word_sent_from_my_mobile_device.txt', expected: "Here is another email" },
  { file: 'email_norwegian_gmail.txt', expected: LOREM_REPLY, note: "attribution wrapped before '>:'" },
  { file: 'email_not_a_signature_2.txt', expected: WHOLE_BODY, note: "'-- ' starting list items is no signature" },
  { file: 'email_not_a_signature.txt', expected: WHOLE_BODY, note: "a dash table rule and a 'Sincerely' closing stay" },
  { file: 'email_one_is_not_on.txt', expected: [
      "Thank, this is really helpful.",
      "",
      "One outstanding question I had:",
      "",
      "Locally (on development), when I run...",
    ].join('\n') },
  { file: 'email_original_message_2.txt', expected: LOREM_REPLY },
  { file: 'email_original_message.txt', expected: LOREM_REPLY },
  { file: 'email_outlook_split_line_from.txt', expected: LOREM_REPLY },
  { file: 'email_portuguese.txt', expected: LOREM_REPLY },
  { file: 'email_reply_header.txt', expected: [
      "This is the latest reply.",
      "",
      "The thread contains two previous replies, and the most recent reply header has a line break in it.",
      "",
      "If we don't patch the line break, the reply header ends up in THIS fragment, instead of in the quoted fragment.",
      "",
      "On the one hand, there could be a line in the reply starting with the word 'On.'",
      "",
      "On the other hand, it could happen TWICE!",
      "",
      "Stranger",
    ].join('\n') },
  { file: 'email_russian.txt', expected: LOREM_REPLY },
  { file: 'email_sent_from_my_not_signature.txt', expected: WHOLE_BODY, note: "'Sent from my desk, ...' is a sentence" },
  { file: 'email_sent_from.txt', expected: [
      "Hi it can happen to any texts you type, as long as you type in between words or paragraphs.",
    ].join('\n') },
  { file: 'email_thread.txt', expected: "This is new email reply in thread from bellow." },
  { file: 'email_tricky_1_on_false_positive.txt', expected: WHOLE_BODY },
  { file: 'email_tricky_2_url_with_wrote.txt', expected: [
      "Hi there,",
      "",
      "Check out this article about email parsing: https://example.com/blog/on-date-someone-wrote-about-parsing",
      "",
      "It's really interesting how they handled the case where URLs contain patterns like \"wrote:\" in them.",
    ].join('\n') },
  { file: 'email_tricky_3_code_block.txt', expected: WHOLE_BODY, note: "signature-like lines inside code stay" },
  { file: 'email_tricky_4_from_in_body.txt', expected: WHOLE_BODY, note: "'From:' inside sentences stays" },
  { file: 'email_tricky_5_mixed_languages.txt', expected: LOREM_REPLY },
  { file: 'email_tricky_6_regards_in_sentence.txt', expected: WHOLE_BODY },
  { file: 'email_tricky_7_multiple_dashes.txt', expected: WHOLE_BODY, note: "markdown rules stay" },
  { file: 'email_tricky_8_sent_from_in_content.txt', expected: WHOLE_BODY },
  { file: 'email_tricky_9_nested_quotes.txt', expected: "I agree with the points below." },
  { file: 'email_tricky_10_special_chars_in_name.txt', expected: LOREM_REPLY },
  { file: 'email_tricky_11_double_signature.txt', expected: "Thanks for your help!" },
  { file: 'email_tricky_12_no_space_after_header.txt', expected: LOREM_REPLY },
  { file: 'email_tricky_13_timestamp_variations.txt', expected: WHOLE_BODY },
  { file: 'email_tricky_14_long_quote_header.txt', expected: LOREM_REPLY },
  { file: 'email_tricky_15_original_message_variations.txt', expected: LOREM_REPLY },
  { file: 'email_tricky_16_unicode_signatures.txt', expected: "Thanks for the update!", note: "em-dash rule and 'Cheers 🎉' closing" },
  { file: 'email_tricky_17_forward_header.txt', expected: "See the forwarded message below." },
  { file: 'email_tricky_18_inline_reply.txt', expected: [
      "I think option A is great.",
      "",
      "Option B has some drawbacks.",
      "",
      "Option C is not suitable for our use case.",
    ].join('\n'), note: "answers between quotes stay, questions go" },
  { file: 'email_tricky_19_quote_without_header.txt', expected: [
      "I wanted to respond to your points:",
      "",
      "My response to the quoted text above.",
      "",
      "And my final thoughts.",
    ].join('\n') },
  { file: 'email_tricky_20_html_entities.txt', expected: [
      "The data should be &gt; 100 and &lt; 200.",
      "",
      "We need to ensure that &amp; symbols are handled correctly.",
    ].join('\n'), note: "entities stay as written" },
  { file: 'email_unquoted_reply.txt', expected: "This is my reply." },
  { file: 'email_with_date_headers.txt', expected: WHOLE_BODY, note: "the raw template: '[DATE]' is plain text" },
  { file: 'email_with_from_headers.txt', expected: WHOLE_BODY, note: "the raw template: '[FROM]' is plain text" },
  { file: 'email_with_regards.txt', expected: [
      "Hi,",
      "",
      "I still have the same problem....",
      "",
      "Can you help?",
    ].join('\n') },
  { file: 'email_zoho.txt', expected: [
      "What is the best way to clear a Riak bucket of all key, values after",
      "running a test?",
    ].join('\n') },
  { file: 'sig_no_empty_line.txt', expected: "this is an email with a signature with no empty line above." },
];

describe('extractReplyFromText on the reply corpus', () => {
  it('covers every fixture file', () => {
    const files = readdirSync(REPLIES).filter((name) => name.endsWith('.txt'));

    expect(REPLY_CASES.map((entry) => entry.file).sort()).toEqual(files.sort());
  });

  it.each(REPLY_CASES)('$file', ({ file, expected, note }) => {
    const body = readFixture(REPLIES, file);
    const context = `${file}${note === undefined ? '' : ` (${note})`}`;

    const reply = extractReplyFromText(body);

    if (expected === WHOLE_BODY) {
      expect(reply.text, context).toBe(normalizeBody(body));
      expect(reply.trimmed, context).toBe(false);
    } else {
      expect(reply.text, context).toBe(expected);
      expect(reply.trimmed, context).toBe(true);
    }
    expectNoQuoteLeft(reply, context);
  });
});

describe('extractReplyFromText with attribution variants', () => {
  const template = readFixture(REPLIES, 'email_with_date_headers.txt');
  // Attribution lines in the forms that mail clients write them, one per language or client.
  const attributions = [
    'On Tue, Mar 1, 2011 at 6:02 PM, Abhishek Kona <abhishek@example.com> wrote:',
    'On 01/03/2011 18:02, Abhishek Kona wrote:',
    'On Tuesday, March 1, 2011 6:02 PM, Abhishek Kona <abhishek@example.com> wrote:',
    'Le mardi 1 mars 2011 à 18:02, Jean Dupont <jean@example.fr> a écrit :',
    'El 01/03/2011, a las 18:02, Juan Pérez escribió:',
    'Il giorno 01/mar/2011, alle ore 18:02, Mario Rossi ha scritto:',
    'Em 1 de mar. de 2011, às 18:02, Maria Silva <maria@example.com> escreveu:',
    'Am 01.03.2011 um 18:02 schrieb Hans Müller <hans@example.de>:',
    'Hans Müller <hans@example.de> schrieb:',
    'Op 1 mrt. 2011, om 18:02 heeft Jan Jansen <jan@example.nl> het volgende geschreven:',
    'W dniu 01.03.2011 18:02, Jan Kowalski pisze:',
    'Den 1. mar. 2011 kl. 18.02 skrev Lars Hansen <lars@example.dk>:',
    'ti 1. maalisk. 2011 klo 18.02 Matti Meikäläinen (matti@example.fi) kirjoitti:',
    '1 мар. 2011 г., в 18:02, Иван Петров <ivan@example.ru> написал(а):',
    '2011/03/01 18:02、Taro Yamada <taro@example.jp> のメッセージ:',
    '在 2011年3月1日，下午6:02，Li Wei <li@example.cn> 写道：',
    '2011. 3. 1. 오후 6:02, Kim Minji <kim@example.kr> 작성:',
    '2011-03-01 18:02 GMT+01:00 Jane Doe <jane@example.com>:',
    '---- On Tue, 01 Mar 2011 18:02:00 +0100 jane@example.com wrote ----',
  ];

  it.each(attributions)('%s', (attribution) => {
    const reply = extractReplyFromText(template.replace('[DATE]', attribution));

    expect(reply.text).toBe('Thank you very much.');
    expect(reply.trimmed).toBe(true);
  });
});

describe('extractReplyFromText with Outlook sender lines', () => {
  const template = readFixture(REPLIES, 'email_with_from_headers.txt');
  const senderLines = [
    'From: foo@example.com <foo@example.com>',
    'De: foo@example.com <foo@example.com>',
    'Von: Foo Bar <foo@example.com>',
    'Van: Foo Bar [mailto:foo@example.com]',
    'Da: Foo Bar <foo@example.com>',
    '*From:* Foo Bar <foo@example.com>',
  ];

  it.each(senderLines)('%s', (senderLine) => {
    const reply = extractReplyFromText(template.replace('[FROM]', senderLine));

    expect(reply.text).toBe('');
    expect(reply.trimmed).toBe(true);
  });
});

describe('extractReplyFromText edge cases', () => {
  it('returns empty text for an empty body', () => {
    expect(extractReplyFromText('')).toEqual({ text: '', trimmed: false });
  });

  it('returns empty text when the body only quotes', () => {
    const reply = extractReplyFromText('> one\n> two\n');

    expect(reply).toEqual({ text: '', trimmed: true });
  });

  it('keeps a plain message untouched', () => {
    const reply = extractReplyFromText('Hello,\r\n\r\nthe printer on floor 2 is broken.\r\n');

    expect(reply).toEqual({ text: 'Hello,\n\nthe printer on floor 2 is broken.', trimmed: false });
  });

  it('keeps a sentence ending in wrote without a date', () => {
    const body = 'Here is what the manual wrote:\n\nPress the reset button for ten seconds.';

    expect(extractReplyFromText(body)).toEqual({ text: body, trimmed: false });
  });

  it('keeps the line above an unwrapped attribution', () => {
    const reply = extractReplyFromText('Thanks a lot\nJohn Doe <john@example.com> wrote:\n> Fixed it.');

    expect(reply.text).toBe('Thanks a lot');
  });

  it('keeps a device tagline that is part of a paragraph', () => {
    const body = 'I tested it twice.\nSent from my phone it fails, from the laptop it works.';

    expect(extractReplyFromText(body)).toEqual({ text: body, trimmed: false });
  });

  it('keeps an answer line that follows a short quoted line', () => {
    const reply = extractReplyFromText('> Does it work?\nYes, since this morning.\n> Thanks');

    expect(reply.text).toBe('Yes, since this morning.');
  });

  it('keeps an answer between long quoted lines', () => {
    const question = '> Could you please tell me which version of the application you are running?';
    const reply = extractReplyFromText(`${question}\nVersion 4.2 on Windows.\n> And since when does it fail?\nSince Monday.`);

    expect(reply.text).toBe('Version 4.2 on Windows.\n\nSince Monday.');
  });

  it('keeps a closing far from the end', () => {
    const body = 'Regards,\nthe new invoice is attached.\n\nPlease check the totals on page two and page three.\n\nAnd the VAT number.\n\nThanks,\nAnna\nAccounts';

    expect(extractReplyFromText(body).text).toBe(normalizeBody(body));
  });

  it('handles a 1 MB body of quotes and spaces', () => {
    const spaces = ' '.repeat(300_000);
    const quoted = '> quoted line with a few words in it\n'.repeat(20_000);
    const nested = `${'>'.repeat(50_000)} deep\n`;
    const attribution = 'On Mon, 2 Dec 2024 at 10:00, Support <support@example.com> wrote:';
    const body = `Thanks, that fixed it.\n${spaces}\n${attribution}\n${quoted}${nested}${spaces}\n> the end\n`;

    const reply = extractReplyFromText(body);

    expect(body.length).toBeGreaterThan(1_000_000);
    expect(reply.text.length).toBeLessThan(100);
    expect(reply).toEqual({ text: 'Thanks, that fixed it.', trimmed: true });
  });

  it('handles a 1 MB line of spaces in the new text', () => {
    const body = `Hello\n${' '.repeat(1_000_000)}x\n> old`;

    const reply = extractReplyFromText(body);

    expect(reply.text.length).toBe(1_000_007);
    expect(reply.text === `Hello\n${' '.repeat(1_000_000)}x`).toBe(true);
    expect(reply.trimmed).toBe(true);
  });
});

describe('extractReplyFromHtml on hand-written client markup', () => {
  const htmlCases = [
    {
      file: 'handwritten-gmail.html',
      expected: 'Hi Support,\n\nThe export works now, thank you. One more question: can I schedule it weekly?',
      quoted: ['We fixed the export', 'Ticket #4711', 'Maria Keller | Operations'],
    },
    {
      file: 'handwritten-outlook-desktop.html',
      expected: 'Hello,\n\nThe invoice address is still wrong on order 1182. Please change it to Hauptstraße 5.',
      quoted: ['From:', 'we updated the delivery address', 'Kind regards'],
    },
    {
      file: 'handwritten-outlook-web.html',
      expected: 'Yes, Thursday at 10:00 works for me.',
      quoted: ['From:', 'Could the technician come', 'Priya Shah'],
    },
    {
      file: 'handwritten-apple-mail.html',
      expected: 'I attached the screenshot you asked for.\n\nThe error appears after I press Save.\n\nJonas',
      quoted: ['wrote:', 'Could you send us a screenshot'],
    },
    {
      file: 'handwritten-thunderbird.html',
      expected: 'Thanks, the password reset link worked.\n\nCould you also remove my old address from the account?',
      quoted: ['wrote:', 'here is a new password reset link', 'Fischer Bau'],
    },
    {
      file: 'handwritten-yahoo.html',
      expected: 'Please cancel my subscription at the end of the month.',
      quoted: ['wrote:', 'Your subscription renews'],
    },
  ];

  it('covers every HTML fixture file', () => {
    const files = readdirSync(HTML_REPLIES).filter((name) => name.endsWith('.html'));

    expect(htmlCases.map((entry) => entry.file).sort()).toEqual(files.sort());
  });

  it.each(htmlCases)('$file', ({ file, expected, quoted }) => {
    const html = readFixture(HTML_REPLIES, file);

    const reply = extractReplyFromHtml(html);

    expect(reply.text).toBe(expected);
    expect(reply.trimmed).toBe(true);
    for (const fragment of quoted) expect(reply.text).not.toContain(fragment);
    expect(htmlToPlainText(html)).toContain(quoted[1]);
  });

  // The old text here carries no "wrote:" or ">" that the text rules could catch, so only
  // the container selectors can remove it.
  const containers = [
    '<div class="gmail_quote"><div>Old text</div></div>',
    '<div class="gmail_quote gmail_quote_container"><div>Old text</div></div>',
    '<blockquote type="cite"><div>Old text</div></blockquote>',
    '<div class="moz-cite-prefix">Old text</div>',
    '<div class="yahoo_quoted" id="yahoo_quoted_123"><div>Old text</div></div>',
    '<div id="divRplyFwdMsg"><b>Old text</b></div><div>More old text</div>',
    '<div id="appendonsend"></div><div>Old text</div>',
    '<div style="border:none;border-top:solid #E1E1E1 1.0pt"><p><b>Von:</b> Old text</p></div><p>More old text</p>',
  ];

  it.each(containers)('drops %s', (container) => {
    const reply = extractReplyFromHtml(`<div>New text</div>${container}`);

    expect(reply).toEqual({ text: 'New text', trimmed: true });
  });

  it('removes a plain blockquote through the text rules', () => {
    const reply = extractReplyFromHtml('<p>Agreed.</p><blockquote><p>Shall we ship on Friday?</p></blockquote>');

    expect(reply).toEqual({ text: 'Agreed.', trimmed: true });
  });

  it('keeps a bordered block that is no reply header', () => {
    const html = '<p>See the note:</p><div style="border-top:1px solid #ccc">Opening hours: 9 to 5</div>';

    expect(extractReplyFromHtml(html)).toEqual({ text: 'See the note:\n\nOpening hours: 9 to 5', trimmed: false });
  });

  it('handles 1 MB of nested quotes', () => {
    const html = `<p>Short answer: yes.</p>${'<blockquote type="cite"><div>older</div>'.repeat(25_000)}`;

    const reply = extractReplyFromHtml(html);

    expect(html.length).toBeGreaterThan(1_000_000);
    expect(reply).toEqual({ text: 'Short answer: yes.', trimmed: true });
  });
});

describe('extractReply', () => {
  it('prefers the text part', () => {
    const reply = extractReply({ text: 'From text\n\n> old', html: '<p>From HTML</p>' });

    expect(reply).toEqual({ text: 'From text', trimmed: true });
  });

  it('falls back to HTML when the text part is blank', () => {
    const reply = extractReply({ text: '  \n', html: '<p>From HTML</p>' });

    expect(reply).toEqual({ text: 'From HTML', trimmed: false });
  });

  it('returns empty text without a body', () => {
    expect(extractReply({ html: false })).toEqual({ text: '', trimmed: false });
    expect(extractReply({})).toEqual({ text: '', trimmed: false });
  });
});

describe('htmlToPlainText', () => {
  it('keeps lines unwrapped and headings as written', () => {
    const sentence = 'word '.repeat(40).trim();

    const text = htmlToPlainText(`<h1>Order status</h1><p>${sentence}</p><img src="cid:logo"><script>x()</script>`);

    expect(text).toBe(`Order status\n\n${sentence}`);
  });

  it('drops input past the cap', () => {
    const text = htmlToPlainText('<p>kept</p><p>dropped</p>', 14);

    expect(text).toBe('kept');
  });

  it('drops a tag that the cap splits', () => {
    expect(htmlToPlainText('<p>kept</p><p>dropped</p>', 13)).toBe('kept');
    expect(htmlToPlainText('<p>kept</p><p>dropped</p>', 9)).toBe('kept');
  });

  it('keeps the text of very deep nesting', () => {
    const depth = 80_000;
    const html = `${'<div><span>'.repeat(depth)}deep text${'</span></div>'.repeat(depth)}`;

    expect(htmlToPlainText(html)).toBe('deep text');
  });
});
