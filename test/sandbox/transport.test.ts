import axios, { AxiosError, type AxiosInstance } from 'axios';
import { SANDBOX_BASE_URL, SANDBOX_DIRECTORY_ID, sandboxAdapter } from '../../src/sandbox';
import { equalityFilter } from '../../src/scim/filter';
import { ERROR_SCHEMA, LIST_SCHEMA, USER_SCHEMA, memoryDirectory, newUser, patchBody } from './fixtures';

const base = `${SANDBOX_BASE_URL}/scim/directory/${SANDBOX_DIRECTORY_ID}`;
let http: AxiosInstance;

beforeEach(() => {
  const { directory } = memoryDirectory();
  http = axios.create({ baseURL: base, adapter: sandboxAdapter(directory, SANDBOX_DIRECTORY_ID) });
});

async function rejection(promise: Promise<unknown>): Promise<AxiosError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AxiosError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

describe('sandboxAdapter through a real axios instance', () => {
  it('creates (201) and reads back (200) with JSON bodies and the SCIM content type', async () => {
    const created = await http.post('/Users', newUser('jane@example.com'));
    expect(created.status).toBe(201);
    expect(created.statusText).toBe('Created');
    expect(created.headers['content-type']).toBe('application/scim+json');
    expect(created.data).toMatchObject({
      schemas: [USER_SCHEMA],
      id: 'user-1',
      meta: { location: `${base}/Users/user-1` },
    });

    const read = await http.get('/Users/user-1');
    expect(read.status).toBe(200);
    expect(read.data).toEqual(created.data);
  });

  it('passes params and absolute URLs through', async () => {
    await http.post('/Users', newUser('jane@example.com'));
    const byParams = await http.get('/Users', {
      params: { filter: equalityFilter('userName', 'JANE@example.com') },
    });
    expect(byParams.data).toMatchObject({ schemas: [LIST_SCHEMA], totalResults: 1 });
    const absolute = await axios.get(`${base}/Users?count=0`, { adapter: http.defaults.adapter });
    expect(absolute.data).toMatchObject({ totalResults: 1, itemsPerPage: 0 });
  });

  it('rejects a 404 with an AxiosError carrying the response status and ScimError body', async () => {
    const error = await rejection(http.get('/Users/missing'));
    expect(error.code).toBe(AxiosError.ERR_BAD_REQUEST);
    expect(error.message).toBe('Request failed with status code 404');
    expect(error.response?.status).toBe(404);
    expect(error.response?.data).toEqual({
      schemas: [ERROR_SCHEMA],
      status: '404',
      detail: 'User not found.',
    });
  });

  it('rejects a 409 from a duplicate create', async () => {
    await http.post('/Users', newUser('jane@example.com'));
    const error = await rejection(http.post('/Users', newUser('Jane@Example.com')));
    expect(error.response?.status).toBe(409);
    expect(error.response?.data).toMatchObject({ scimType: 'uniqueness' });
  });

  it('honours validateStatus', async () => {
    const response = await http.get('/Users/missing', { validateStatus: () => true });
    expect(response.status).toBe(404);
    expect(response.data).toMatchObject({ status: '404' });
  });

  it('answers 204 with an empty body for DELETE', async () => {
    await http.post('/Users', newUser('jane@example.com'));
    const response = await http.delete('/Users/user-1');
    expect(response.status).toBe(204);
    expect(response.data).toBe('');
  });

  it('parses a JSON text body and PATCHes', async () => {
    await http.post('/Users', newUser('jane@example.com'));
    const response = await http.patch(
      '/Users/user-1',
      JSON.stringify(patchBody({ op: 'replace', value: { active: false } })),
      { headers: { 'Content-Type': 'application/scim+json' } },
    );
    expect(response.data).toMatchObject({ active: false });
  });

  it('answers 400 invalidSyntax for a body that is not JSON', async () => {
    const error = await rejection(
      http.post('/Users', '{"userName":', { headers: { 'Content-Type': 'application/scim+json' } }),
    );
    expect(error.response?.status).toBe(400);
    expect(error.response?.data).toMatchObject({ scimType: 'invalidSyntax' });
  });

  it('answers 404 "Directory does not exist" for another directory id', async () => {
    const error = await rejection(http.get(`${SANDBOX_BASE_URL}/scim/directory/other/Users`));
    expect(error.response?.status).toBe(404);
    expect(error.response?.data).toMatchObject({ detail: 'Directory does not exist.' });
  });

  it('hands raw text back when the client asks for text and keeps its own transforms', async () => {
    const response = await http.get('/Users', {
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
    });
    expect(typeof response.data).toBe('string');
    expect(JSON.parse(response.data as string)).toMatchObject({ totalResults: 0 });
  });
});
