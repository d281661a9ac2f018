import { BulkFileError, identifierOf, readCsv, rowKey, toBulkRows } from '../../src/bulk/csv';

const rows = (text: string, operation = 'update') => toBulkRows(readCsv(text), operation);

describe('readCsv', () => {
  it('reads the header and the records with the line each starts on', () => {
    const table = readCsv('email,title\njane@example.com,"Team\nLead"\n\nbob@example.com,Ops\n');
    expect(table.header).toEqual(['email', 'title']);
    expect(table.records).toEqual([
      { line: 2, cells: ['jane@example.com', 'Team\nLead'] },
      { line: 5, cells: ['bob@example.com', 'Ops'] },
    ]);
  });

  it('drops a byte order mark, takes CRLF line ends and leaves out lines of empty cells', () => {
    const table = readCsv('\uFEFFEmail,Title\r\njane@example.com,Eng\r\n,\r\n  \r\nbob@example.com,\r\n');
    expect(table.header).toEqual(['Email', 'Title']);
    expect(table.records.map((r) => r.line)).toEqual([2, 5]);
  });

  it('reads the semicolon-separated files some spreadsheets write', () => {
    const table = readCsv('email;title\njane@example.com;"Lead, Team"\n');
    expect(table.delimiter).toBe(';');
    expect(table.records[0].cells).toEqual(['jane@example.com', 'Lead, Team']);
  });

  it.each([
    ['', /empty/],
    ['\n\n  \n', /empty/],
    ['jane@example.com,Engineer\nbob@example.com,Ops\n', /line 1 must be the header row.*"jane@example.com"/],
    ['email,,title\nx@example.com,,t\n', /column 2 of the header row \(line 1\) is empty/],
    ['email,Email\na,b\n', /columns 1 and 2 of the header row are both "Email"/],
    ['email,olduserdata,olduserdata.email\na,b,c\n', /both give olduserdata/],
    ['email,title\n"jane@example.com,Eng\nbob@example.com,Ops\n', /quoted cell is never closed/],
  ])('refuses a file that cannot be read as a whole: %j', (text, message) => {
    expect(() => readCsv(text)).toThrow(BulkFileError);
    expect(() => readCsv(text)).toThrow(message);
  });
});

describe('toBulkRows', () => {
  it('turns each row into a profile: keys case-insensitive, empty cells absent', () => {
    const [row] = rows('Email,GivenName,familyName,Title,active\njane@example.com,Jane,Doe,,TRUE\n');
    expect(row.problem).toBeUndefined();
    expect(row.profile).toEqual({
      email: 'jane@example.com',
      givenname: 'Jane',
      surname: 'Doe',
      active: true,
    });
    expect(row.identifier).toBe('jane@example.com');
    expect(row.row).toBe(2);
  });

  it('nests olduserdata.KEY columns and reads JSON in object-valued columns', () => {
    const [row] = rows(
      'email,olduserdata.email,emails\nnew@example.com,old@example.com,"[{""value"":""new@example.com"",""primary"":""true""}]"\n',
    );
    expect(row.profile).toEqual({
      email: 'new@example.com',
      olduserdata: { email: 'old@example.com' },
      emails: [{ value: 'new@example.com', primary: true }],
    });
  });

  it('marks a row malformed, with the reason, and keeps the others', () => {
    const result = rows(
      [
        'email,title,active',
        'ok@example.com,Eng,',
        'short@example.com,Eng',
        'long@example.com,Eng,true,extra',
        'bad@example.com,Eng,maybe',
        'ok2@example.com,,false',
      ].join('\n'),
    );
    expect(result.map((r) => [r.row, r.identifier, r.problem ?? null])).toEqual([
      [2, 'ok@example.com', null],
      [3, 'short@example.com', 'has 2 cells but the header row has 3 columns'],
      [4, 'long@example.com', 'has 4 cells but the header row has 3 columns'],
      [5, 'bad@example.com', 'active must be true or false, got "maybe"'],
      [6, 'ok2@example.com', null],
    ]);
  });

  it('reports a cell the stores cannot keep (NUL) as a malformed row naming the column', () => {
    const [row] = rows('email,title\njane@example.com,Lead\u0000\n');
    expect(row.problem).toBe('`title` contains a NUL character (U+0000); remove it');
  });

  it('reports a JSON cell that is not JSON as a malformed row', () => {
    const [row] = rows('email,emails\njane@example.com,[{oops\n');
    expect(row.problem).toMatch(/^emails is not valid JSON/);
  });

  it('keys a row by operation and content, so a changed row or another operation is not taken as done', () => {
    const header = ['email'];
    expect(rowKey('disable', header, ['a@example.com'])).toBe(rowKey('disable', header, ['a@example.com']));
    expect(rowKey('disable', header, ['a@example.com'])).not.toBe(
      rowKey('enable', header, ['a@example.com']),
    );
    expect(rowKey('disable', header, ['a@example.com'])).not.toBe(
      rowKey('disable', header, ['b@example.com']),
    );
  });
});

describe('issue 13: a column that names no profile key is one error for the file', () => {
  it('a header "emial" is ONE BulkFileError naming the column and the closest key, not a malformed row per user', () => {
    const table = readCsv('emial,title\na@example.com,Eng\nb@example.com,Eng\nc@example.com,Eng\n');
    expect(() => toBulkRows(table, 'create')).toThrow(BulkFileError);
    expect(() => toBulkRows(table, 'create')).toThrow(
      'column 1 of the header row ("emial") is not a profile key: did you mean email?',
    );
  });

  it('checks the KEY of an olduserdata.KEY column too', () => {
    expect(() => rows('email,olduserdata.emial\nnew@example.com,old@example.com\n')).toThrow(
      'column 2 of the header row ("olduserdata.emial") is not a profile key: did you mean email?',
    );
  });

  it('lets SCIM names, scim:NAME columns, groups and the mapper file keys through', () => {
    const [row] = toBulkRows(
      readCsv('userName,externalId,scim:nickName,groups,costCenter\njane@example.com,E1,JJ,"[""eng""]",42\n'),
      'create',
      { mapperKeys: new Set(['costcenter']) },
    );
    expect(row.problem).toBeUndefined();
    expect(row.profile).toEqual({
      username: 'jane@example.com',
      externalId: 'E1',
      'scim:nickName': 'JJ',
      groups: ['eng'],
      costCenter: '42',
    });
  });

  it('a value against the schema (not an email) is still a malformed row, named by its key', () => {
    const [row] = rows('email,title\nnot-an-email,Eng\n');
    expect(row.problem).toBe('email must be an email address such as jane@example.com');
  });
});

describe('identifierOf', () => {
  it('group operations read the group column apart from the profile, and need it', () => {
    const table = readCsv('email,Group,title\nann@example.com,jira-software-users,Eng\nbea@example.com, ,\n');
    const [ann, bea] = toBulkRows(table, 'add-to-group', { groupColumn: true });
    expect(ann).toMatchObject({ identifier: 'ann@example.com', group: 'jira-software-users' });
    expect(ann.profile).toEqual({ email: 'ann@example.com', title: 'Eng' });
    expect(bea).toMatchObject({
      identifier: 'bea@example.com',
      problem: "the group cell is empty: give the group's name",
    });
    expect(() =>
      toBulkRows(readCsv('email\nann@example.com\n'), 'add-to-group', { groupColumn: true }),
    ).toThrow(
      'bulk add-to-group needs a "group" column naming each row\'s group, beside the user\'s identifier (e.g. email,group)',
    );
    // A user operation has no group column: the header check names the closest key.
    expect(() => toBulkRows(table, 'disable')).toThrow(BulkFileError);
  });

  it('prefers email, then username, employee id and id', () => {
    expect(identifierOf({ id: 'u-1', username: 'jdoe', email: 'j@example.com' })).toBe('j@example.com');
    expect(identifierOf({ id: 'u-1', employeeid: 'E7' })).toBe('E7');
    expect(identifierOf({ title: 'Eng' })).toBeNull();
  });
});
