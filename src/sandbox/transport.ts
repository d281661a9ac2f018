import { STATUS_CODES } from 'node:http';
import axios, { type AxiosAdapter, AxiosError, type AxiosResponse } from 'axios';
import { SANDBOX_BASE_URL, SCIM_CONTENT_TYPE } from './constants';
import type { SandboxDirectory } from './directory';
import { dispatch } from './route';

function requestBody(data: unknown): unknown {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return data;
}

/**
 * An axios adapter that answers from the sandbox directory instead of the network. The request goes
 * through axios as usual (baseURL, params, transformRequest), and the response comes back as the
 * http adapter would give it: the body as JSON text, which axios's transformResponse then parses,
 * and a rejection with AxiosError for a status `validateStatus` refuses (axios's `settle`).
 */
export function sandboxAdapter(directory: SandboxDirectory, directoryId: string): AxiosAdapter {
  return async (config) => {
    const url = new URL(axios.getUri(config), SANDBOX_BASE_URL);
    const result = dispatch(directory, directoryId, {
      method: config.method ?? 'get',
      url,
      body: requestBody(config.data),
    });
    const hasBody = result.body !== undefined;
    const response: AxiosResponse<string> = {
      data: hasBody ? JSON.stringify(result.body) : '',
      status: result.status,
      statusText: STATUS_CODES[result.status] ?? '',
      headers: hasBody ? { 'content-type': SCIM_CONTENT_TYPE } : {},
      config,
      request: {},
    };
    const validateStatus = config.validateStatus;
    if (!validateStatus || validateStatus(response.status)) return response;
    throw new AxiosError(
      `Request failed with status code ${response.status}`,
      response.status >= 400 && response.status < 500
        ? AxiosError.ERR_BAD_REQUEST
        : AxiosError.ERR_BAD_RESPONSE,
      config,
      response.request,
      response,
    );
  };
}
